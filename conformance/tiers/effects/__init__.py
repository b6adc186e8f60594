"""The effects tier: what each documented parameter and body field does, read back on the target."""
