"""End-to-end tests: the real `goldenpath` CLI against a running `goldenpath up`."""
