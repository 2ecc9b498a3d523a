"""The hostile values: what an attacker, a broken client or a confused user types into a field.

Each value is kept as the JSON text it is sent as (`Hostile.json`), because some cannot be
built as Python objects and serialised (10,000 nested lists exceed `json.dumps`' recursion
limit). Values that could do something carry a marker of the run (``hx`` + hex), so that a
trace of them found anywhere (a database name, a file, a rendered page) is known to be ours:

- shell payloads ``touch /tmp/pwned-<marker>-<n>``: the file appearing is the side effect;
- template syntax ``<marker>{{7*7}}``: ``<marker>49`` appearing anywhere means it was rendered;
- HTML ``<script>``: the raw tag in a portal page means it was not escaped.

`corpus(marker)` is the whole set (the bench); `short_corpus(marker)` one or two of each kind
(the test suite). `body_corpus()` replaces a request's whole body, not one field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

HUGE = 1024 * 1024  # a 1 MB string
BODY = 10 * 1024 * 1024  # a 10 MB body
DEPTH = 10_000  # levels of nested JSON


@dataclass(frozen=True)
class Hostile:
    kind: str  # sql, shell, path, template, html, unicode, homoglyph, nul, huge, type, nesting
    label: str
    json: str  # the JSON text sent in the field's place

    @property
    def text(self) -> str:
        """The value as a path or query parameter carries it: strings as they are, else JSON."""
        value: Any = json.loads(self.json) if self.kind != "nesting" else None
        return value if isinstance(value, str) else self.json

    @property
    def short_label(self) -> str:
        return f"{self.kind}:{self.label}"


def _text(kind: str, label: str, value: str) -> Hostile:
    return Hostile(kind, label, json.dumps(value))


def _value(kind: str, label: str, value: Any) -> Hostile:
    return Hostile(kind, label, json.dumps(value))


def nested(depth: int = DEPTH) -> str:
    return "[" * depth + "]" * depth


def nested_objects(depth: int = DEPTH) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def corpus(marker: str) -> list[Hostile]:
    shell = [
        f"$(touch /tmp/pwned-{marker}-1)",
        f"`touch /tmp/pwned-{marker}-2`",
        f"x; touch /tmp/pwned-{marker}-3",
        f"x && touch /tmp/pwned-{marker}-4 #",
        f"x | touch /tmp/pwned-{marker}-5",
        f"x\ntouch /tmp/pwned-{marker}-6",
        "; rm -rf / --no-preserve-root",
    ]
    return [
        _text("sql", "drop-table", "'; DROP TABLE x; --"),
        _text("sql", "or-1-1", '" OR 1=1 --'),
        _text("sql", "quote-or", "' OR '1'='1"),
        _text("sql", "stacked-role", f"{marker}'; CREATE ROLE {marker}_sql SUPERUSER; --"),
        _text("sql", "identifier-quote", f'{marker}"; DROP DATABASE postgres; --'),
        _text("sql", "backslash-quote", f"{marker}\\'; DROP TABLE users; #"),
        *(_text("shell", f"shell-{n}", s) for n, s in enumerate(shell, 1)),
        _text("path", "traversal", "../../etc/passwd"),
        _text("path", "deep-traversal", "../" * 12 + "etc/shadow"),
        _text("path", "absolute", "/etc/passwd"),
        _text("path", "encoded", "%2e%2e/%2e%2e/etc/passwd"),
        _text("path", "double-encoded", "%252e%252e%252fetc%252fpasswd"),
        _text("path", "backslash", "..\\..\\windows\\win.ini"),
        _text("path", "owner-traversal", "../acme"),
        _text("path", "dot-git", f"{marker}/.git"),
        _text("template", "backstage-secrets", "${{ secrets }}"),
        _text("template", "dollar-math", f"{marker}${{{{ 7*7 }}}}"),
        _text("template", "jinja-math", f"{marker}{{{{7*7}}}}"),
        _text("template", "jinja-block", f"{{% for c in 'ab' %}}{marker}{{{{c}}}}{{% endfor %}}"),
        _text("template", "jinja-escape", "{{ ''.__class__.__mro__[1].__subclasses__() }}"),
        _text("template", "parameters", "${{ parameters }}"),
        _text("template", "gha", "${{ github.token }}"),
        _text("html", "script", f"<script>alert('{marker}')</script>"),
        _text("html", "img-onerror", f'"><img src=x onerror=alert("{marker}")>'),
        _text("html", "javascript-url", f"javascript:alert('{marker}')"),
        _text("unicode", "rtl-override", f"{marker}\u202etxt.exe"),
        _text("unicode", "zero-width", f"adm\u200bin{marker}"),
        _text("unicode", "bom", f"\ufeff{marker}"),
        _text("unicode", "line-separator", f"{marker}\u2028x"),
        _text("unicode", "combining", f"{marker}e\u0301\u0301\u0301"),
        _text("unicode", "lone-surrogate-escape", f"{marker}\\ud800"),
        Hostile("unicode", "lone-surrogate", f'"{marker}\\ud800"'),
        _text("unicode", "emoji", f"{marker}\U0001f600"),
        _text("homoglyph", "cyrillic-a", "\u0430dmin"),
        _text("homoglyph", "cyrillic-name", "p\u0430yments"),
        _text("homoglyph", "fullwidth", "\uff41\uff44\uff4d\uff49\uff4e"),
        _text("nul", "nul-inside", f"{marker}\x00x"),
        _text("nul", "nul-only", "\x00"),
        _text("nul", "control-chars", f"{marker}\x01\x1b[31m\x7f"),
        _text("huge", "1mb", (marker * (HUGE // len(marker) + 1))[:HUGE]),
        _text("huge", "1mb-unicode", "\u0430" * (HUGE // 2)),
        _value("type", "integer", 31337),
        _value("type", "negative", -1),
        _value("type", "huge-integer", 2**70),
        Hostile("type", "huge-float", "1e400"),
        _value("type", "float", 3.5),
        _value("type", "true", True),
        _value("type", "null", None),
        _value("type", "empty-string", ""),
        _value("type", "list", [marker]),
        _value("type", "object", {"x": [marker]}),
        _value("type", "empty-object", {}),
        _value("type", "string-number", "31337"),
        _value("type", "string-bool", "true"),
        Hostile("nesting", "10k-lists", nested()),
        Hostile("nesting", "10k-objects", nested_objects()),
        # Within what the parser reads, past what validating it can recurse through.
        Hostile("nesting", "500-lists", nested(500)),
        Hostile("nesting", "500-objects", nested_objects(500)),
    ]


# One of each kind, for the test suite.
SHORT = {
    "drop-table",
    "shell-1",
    "traversal",
    "jinja-math",
    "script",
    "rtl-override",
    "cyrillic-a",
    "nul-inside",
    "1mb",
    "list",
    "10k-lists",
    "500-objects",
}


def short_corpus(marker: str) -> list[Hostile]:
    return [h for h in corpus(marker) if h.label in SHORT]


@dataclass(frozen=True)
class HostileBody:
    """A whole request body: bytes, and the content type they are sent as."""

    label: str
    content: bytes
    content_type: str = "application/json"


def body_corpus(short: bool = False) -> list[HostileBody]:
    bodies = [
        HostileBody("10mb-body", b'{"name": "' + b"a" * BODY + b'"}'),
        HostileBody("10k-nested-body", nested().encode()),
        HostileBody("10k-nested-objects-body", nested_objects().encode()),
        HostileBody("not-utf8", b'{"name": "\xff\xfe"}'),
        HostileBody("not-json", b"name=x'; DROP TABLE x; --"),
        HostileBody("truncated", b'{"name": "x'),
        HostileBody("a-list", b"[1, 2, 3]"),
        HostileBody("a-string", b'"x"'),
        HostileBody("null", b"null"),
        HostileBody("nul-bytes", b'{"name": "\x00"}'),
        HostileBody(
            "xml",
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
            "application/xml",
        ),
        HostileBody("form", b"name=%27%3B+DROP+TABLE+x%3B+--", "application/x-www-form-urlencoded"),
    ]
    if short:
        keep = {"10mb-body", "10k-nested-body", "not-utf8"}
        return [b for b in bodies if b.label in keep]
    return bodies
