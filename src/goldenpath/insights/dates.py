"""Dates as real exports write them.

Jira's CSV writes ``10/Mar/24 9:05 AM`` in the exporting user's zone; its REST API and GitHub
write ISO 8601 with an offset (``2024-03-10T09:05:00.000+0100``, ``...Z``); ServiceNow writes
``10-03-2024 09:05`` or ``2024-03-10 09:05:00`` in the instance's zone. A date without an offset
is read in the zone given to the import (an IANA name, so that a DST change inside the export
is honoured), never in the machine's.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from goldenpath.errors import InvalidInput

NULLS = frozenset({"", "?", "null", "none", "n/a", "-"})

# Formats without an offset, tried in order. Day-first: the formats below are the ones
# trackers write; US month-first dates are not among them.
_NAIVE_FORMATS = (
    "%d/%b/%y %I:%M %p",  # Jira CSV: 10/Mar/24 9:05 AM
    "%d/%b/%Y %I:%M %p",
    "%d/%b/%y %H:%M",
    "%d-%m-%Y %H:%M",  # ServiceNow: 10-03-2024 09:05
    "%d-%m-%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
# Jira writes offsets without a colon (+0100) and milliseconds; fromisoformat reads both
# since Python 3.11, but not a lower-case 'z'.
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(field="timezone", rule=f"'{name}' is not an IANA time zone") from exc


def is_null(text: str | None) -> bool:
    return text is None or text.strip().lower() in NULLS


def parse_datetime(text: str, default_zone: tzinfo) -> datetime:
    """An aware datetime, or ValueError naming the text that is not a date."""
    value = text.strip()
    if _ISO.match(value):
        try:
            parsed = datetime.fromisoformat(value.replace("z", "Z"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=default_zone)
    for pattern in _NAIVE_FORMATS:
        try:
            naive = datetime.strptime(value, pattern)
        except ValueError:
            continue
        return naive.replace(tzinfo=default_zone)
    raise ValueError(f"'{value}' is not a date (ISO 8601, DD-MM-YYYY HH:MM or DD/Mon/YY h:mm AM)")
