"""Actions on a configured Redis server (7.0 or later, for ACL selectors and categories)."""
