"""A fast, exact reader for the usual shape of a run's config.yaml: top-level `KEY: value` lines.

task-config reads every config a push changes; PyYAML's constructor costs ~0.2 ms a file in
Python, seconds over a long history. A file made only of blank lines, comment lines and
`KEY: plain-scalar  # comment` lines is read here, with PyYAML's own resolver and scalar
constructors, so the values are exactly those yaml.safe_load gives. Anything else (quotes,
nesting, lists, flow style, anchors, tabs, other line breaks, document markers) returns None and
the caller uses PyYAML.
"""

from __future__ import annotations

import re
from typing import Any, Optional

# A key PyYAML reads as a plain scalar at column 0, then ": value" or ":" at the end of the line.
# Values: no spaces, no '#', no quotes or flow/anchor/tag indicators; not '-' alone (a list entry)
# and not ending in ':' (a nested key). Everything else falls back to PyYAML.
_LINE = re.compile(
    r"([A-Za-z_][A-Za-z0-9_]*):(?:[ ]+([A-Za-z0-9_.+~/\-](?:[A-Za-z0-9_.+~/:\-]*[A-Za-z0-9_.+~/\-])?))?[ ]*(?:[ ]#.*)?"
)
_COMMENT_OR_BLANK = re.compile(r"[ ]*(?:#.*)?")
# What would make PyYAML read the text differently from lines split at "\n": other line breaks,
# tabs, a byte-order mark, and characters YAML does not accept at all.
# (Compiling the full class costs ~7 ms, more than a hook can spare: ASCII text, the usual case,
# is tested with its ASCII part, and the full class is compiled the first time it is needed.)
_UNSAFE_ASCII = re.compile("[^\n\x20-\x7e]")
_UNSAFE_TEXT = "[^\n\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
_UNSAFE: Optional[re.Pattern[str]] = None
_CACHE: dict[str, Any] = {}
_TOOLS: Optional[tuple[Any, Any]] = None

# The most common plain scalars, resolved as PyYAML's SafeLoader resolves them, without importing
# PyYAML (~20 ms, more than the rest of a hook). PyYAML picks implicit resolvers by the first
# character: bool on yYnNtTfFoO (exact words), null on ~ n N and the empty string (exact words),
# float on -+. and digits, int on -+ and digits, timestamp on digits, merge on <, value on =.
_BOOLS = {
    **dict.fromkeys(("yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
}
_NULLS = frozenset(("~", "null", "Null", "NULL", ""))
_RESOLVED_FIRST = frozenset("yYnNtTfFoO~<=-+.0123456789")
_WORD_FIRST = frozenset("yYnNtTfFoO")  # only the exact words above resolve from these
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")  # int: no leading zero (octal), no "_", no ":"
_FLOAT = re.compile(r"[-+]?[0-9]+\.[0-9]+")  # float: no exponent, no "_", no ":"
_DOTTED = re.compile(r"[0-9]+(?:\.[0-9]+){2,}")  # 0.1.0: no resolver claims it, a string
_UNKNOWN = object()


def _plain(text: str) -> Any:
    """The value of the plain scalar `text` when it is a bool, a null, a string no resolver
    claims, a decimal int or a simple decimal float; _UNKNOWN otherwise (PyYAML decides)."""
    if text in _BOOLS:
        return _BOOLS[text]
    if text in _NULLS:
        return None
    first = text[:1]
    if first not in _RESOLVED_FIRST or first in _WORD_FIRST:
        return text
    if _DECIMAL.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    if _DOTTED.fullmatch(text):
        return text
    return _UNKNOWN


def _scalar(text: str) -> Any:
    """What PyYAML makes of a plain scalar (resolved tag, then that tag's constructor)."""
    global _TOOLS
    if text in _CACHE:
        return _CACHE[text]
    value = _plain(text)
    if value is not _UNKNOWN:
        return value
    if _TOOLS is None:
        import yaml

        _TOOLS = (yaml.resolver.Resolver(), yaml.constructor.SafeConstructor())
    resolver, constructor = _TOOLS
    import yaml

    tag = resolver.resolve(yaml.ScalarNode, text, (True, False))
    value = constructor.yaml_constructors[tag](constructor, yaml.ScalarNode(tag, text))
    if len(_CACHE) < 4096:  # values repeat across runs (false, null, 42): remember a few
        _CACHE[text] = value
    return value


def _unsafe(text: str) -> bool:
    global _UNSAFE
    if text.isascii():
        return _UNSAFE_ASCII.search(text) is not None
    if _UNSAFE is None:
        _UNSAFE = re.compile(_UNSAFE_TEXT)
    return _UNSAFE.search(text) is not None


def load(text: str) -> Optional[dict[Any, Any]]:
    """The mapping, or None when the text is not of the flat shape (use PyYAML then). Raises what
    PyYAML's constructors raise for a bad value (ValueError for 2026-13-45, ...)."""
    if _unsafe(text):
        return None
    data: dict[Any, Any] = {}
    for line in text.split("\n"):
        m = _LINE.fullmatch(line)
        if m is None:
            if _COMMENT_OR_BLANK.fullmatch(line):
                continue
            return None
        key, value = m.group(1), m.group(2)
        if value == "-":
            return None
        data[_scalar(key)] = None if value is None else _scalar(value)
    return data or None
