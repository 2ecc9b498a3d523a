"""Day 2: what a new version of a golden path changes, what it would do to what the old one made,
and upgrades run as requests."""
