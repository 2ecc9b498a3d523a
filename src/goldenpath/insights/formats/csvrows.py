"""CSV as exports write it: a BOM, CRLF, quoted newlines, and columns that share a name.

Jira's CSV repeats a header once per value (``Comment``, ``Comment``, ``Labels``...), so a row
is kept as its header's columns *in order*: `Row.first` takes the first non-empty value of a
name, `Row.all` every value.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from goldenpath.errors import InvalidInput

csv.field_size_limit(16 * 1024 * 1024)  # a ticket's description can be long


def decode(data: bytes) -> str:
    """UTF-8 (with or without a BOM); Windows-1252 as the one fallback Excel users produce."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


@dataclass(frozen=True)
class Row:
    line: int  # the file line the record starts on (1 is the header)
    header: tuple[str, ...]
    values: tuple[str, ...]

    def first(self, *names: str) -> str | None:
        """The first non-empty value of any of ``names`` (case-insensitive)."""
        wanted = {n.lower() for n in names}
        for name, value in zip(self.header, self.values, strict=False):
            if name.lower() in wanted and value.strip():
                return value.strip()
        return None

    def all(self, name: str) -> list[str]:
        lowered = name.lower()
        return [
            v
            for n, v in zip(self.header, self.values, strict=False)
            if n.lower() == lowered and v.strip()
        ]


def read_header(text: str) -> tuple[str, ...]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return tuple(h.strip() for h in next(reader))
    except StopIteration:
        raise InvalidInput(field="file", rule="is empty: no header row") from None
    except csv.Error as exc:
        raise InvalidInput(field="file", rule=f"line 1 is not CSV: {exc}") from exc


def rows(text: str) -> Iterator[Row]:
    """The records after the header, each with the line it starts on; blank lines skipped."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = tuple(h.strip() for h in next(reader))
    except StopIteration:
        return
    previous = reader.line_num
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidInput(field="file", rule=f"line {previous + 1} is not CSV: {exc}") from exc
        start = previous + 1
        previous = reader.line_num
        if not any(v.strip() for v in values):
            continue
        yield Row(line=start, header=header, values=tuple(values))
