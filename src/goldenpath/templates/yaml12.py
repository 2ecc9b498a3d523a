"""Template YAML read as YAML 1.2 (ruamel.yaml), so values are what the author wrote.

PyYAML reads YAML 1.1, where ``enum: [yes, no]`` becomes booleans and ``on``/``off`` too; in
YAML 1.2 those are strings, and only ``true``/``false`` are booleans.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = [
    "MappingNode",
    "MarkedYAMLError",
    "Node",
    "ScalarNode",
    "SequenceNode",
    "YAMLError",
    "compose",
    "load",
]


def _reader() -> YAML:
    # A YAML instance keeps parser state: one per call keeps loading thread safe.
    return YAML(typ="safe", pure=True)


def compose(text: str) -> Node | None:
    """The node tree (with line marks) of one YAML document."""
    node: Node | None = _reader().compose(text)
    return node


def load(text: str) -> Any:
    """Plain Python values (dicts, lists, str, int, float, bool, None) of one YAML document."""
    return _reader().load(text)
