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
    "parse",
]


def _reader() -> YAML:
    # A YAML instance keeps parser state: one per call keeps loading thread safe. The pure
    # parser: the C one (libyaml) scans YAML 1.1 and refuses some 1.2 plain scalars.
    return YAML(typ="safe", pure=True)


def compose(text: str) -> Node | None:
    """The node tree (with line marks) of one YAML document."""
    node: Node | None = _reader().compose(text)
    return node


def parse(text: str) -> tuple[Node | None, Any]:
    """The node tree and the values of one document, parsed once (the values are constructed
    from the nodes); duplicate keys are for the caller to check on the nodes."""
    reader = _reader()
    node: Node | None = reader.compose(text)
    if node is None:
        return None, None
    constructor = reader.constructor
    constructor.allow_duplicate_keys = True
    return node, constructor.construct_document(node)


def load(text: str) -> Any:
    """Plain Python values (dicts, lists, str, int, float, bool, None) of one YAML document."""
    return _reader().load(text)
