"""The ``goldenpath`` command line: runs the platform and talks to its REST API."""
