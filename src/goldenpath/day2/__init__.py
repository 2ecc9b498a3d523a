"""Day-2 actions: the named operations a golden path offers on what it made (``spec.day2``),
run by the owning team as guarded requests."""
