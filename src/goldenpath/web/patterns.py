"""JSON Schema patterns as HTML ``pattern`` attributes.

Browsers compile ``pattern`` as ``^(?:...)$`` with the ``v`` flag, which is stricter than the
JSON Schema dialect inside character classes (``[a-z_-]`` is an error there) and anchors the
whole value, where JSON Schema does not. A pattern the browser still cannot compile is ignored
by it: the server's check is the one that counts.
"""

from __future__ import annotations

# Punctuation that may (and, inside a `v`-mode class, sometimes must) be escaped.
_ESCAPABLE = set("()[]{}/-|&!#%,:;<=>@`~.$*+?^")


def html_pattern(pattern: str) -> str:
    body = _escape_classes(pattern)
    if not pattern.startswith("^"):
        body = r"[\s\S]*(?:" + body + ")"
    if not (pattern.endswith("$") and not pattern.endswith(r"\$")) and not pattern.endswith(
        r"(?![\s\S])"
    ):
        body = "(?:" + body + r")[\s\S]*"
    return body


def _escape_classes(pattern: str) -> str:
    out: list[str] = []
    in_class = False
    class_start = 0
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            out.append(pattern[index : index + 2])
            index += 2
            continue
        if not in_class:
            if char == "[":
                in_class = True
                out.append(char)
                if pattern.startswith("^", index + 1):
                    out.append("^")
                    index += 1
                class_start = len(out)
            else:
                out.append(char)
            index += 1
            continue
        if char == "]":
            in_class = False
            out.append(char)
        elif char == "-":
            first = len(out) == class_start
            last = pattern.startswith("]", index + 1)
            out.append("\\-" if first or last else "-")
        elif char in _ESCAPABLE:
            out.append("\\" + char)
        else:
            out.append(char)
        index += 1
    return "".join(out)
