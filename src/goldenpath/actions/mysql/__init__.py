"""Actions on a configured MySQL or MariaDB server."""
