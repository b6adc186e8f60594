"""The suite's domain vocabulary: what a failure is (its class), below every layer that judges one."""
