"""``python -m goldenpath.cli``."""

from __future__ import annotations

from goldenpath.cli.main import main

main()
