"""One run: its context (target, spec, guard, sessions), its pytest plugin, which checks it keeps,
and how each check's pytest reports become a result."""
