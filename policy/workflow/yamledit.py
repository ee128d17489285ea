"""Changing one top-level `KEY: value` line of a YAML file as text.

Why text and not load/dump: a dump would drop the user's comments and reorder keys, and the
version-bump rule accepts a release commit only if it changes the VERSION line and nothing else.
The result is parsed back to prove the edit says what was meant.
"""

from __future__ import annotations

import re
from typing import Any, Callable, NamedTuple

from policy.workflow.errors import WorkflowError

_QUOTED = re.compile(r"\A(?P<q>['\"])(?P<inner>.*)(?P=q)\Z")


class Edit(NamedTuple):
    text: bytes
    before: str  # the old line ("" when the key was added)
    after: str  # the new line


def _line_re(key: str) -> re.Pattern[bytes]:
    return re.compile(
        rb"^" + re.escape(key.encode()) + rb"[ \t]*:(?P<space>[ \t]*)(?P<value>[^\r\n]*?)"
        rb"(?P<comment>[ \t]+#[^\r\n]*)?[ \t]*(?P<eol>\r?\n|\Z)",
        re.MULTILINE,
    )


def set_value(text: bytes, key: str, render: Callable[[str], str], expected: Any, path: str) -> Edit:
    """Replace the value on the line `KEY: value` with `render(old value)`, keeping the spacing,
    a trailing comment and the line ending; append `KEY: render("")` if there is no such line."""
    found = list(_line_re(key).finditer(text))
    if len(found) > 1:
        raise WorkflowError(f"{path} sets {key} {len(found)} times: keep one {key} line and try again")
    if not found:
        eol = b"\r\n" if b"\r\n" in text else b"\n"
        line = f"{key}: {render('')}".encode()
        sep = b"" if not text or text.endswith(b"\n") else eol
        new_text = text + sep + line + eol
        _prove(new_text, key, expected, path)
        return Edit(new_text, "", line.decode())
    m = found[0]
    old_value = m["value"].decode("utf-8", "replace")
    value = render(old_value).encode()
    space = m["space"] or b" "
    new_line = m.group(0)[: m.start("space") - m.start()] + space + value + (m["comment"] or b"") + m["eol"]
    new_text = text[: m.start()] + new_line + text[m.end() :]
    _prove(new_text, key, expected, path)
    return Edit(new_text, m.group(0).decode("utf-8", "replace").rstrip(), new_line.decode("utf-8", "replace").rstrip())


def keep_quotes(new: str) -> Callable[[str], str]:
    """A renderer that writes `new` in the quoting style of the old value ('x', "x" or x)."""

    def render(old: str) -> str:
        m = _QUOTED.match(old.strip())
        return f"{m['q']}{new}{m['q']}" if m else new

    return render


def _prove(text: bytes, key: str, expected: Any, path: str) -> None:
    import yaml

    try:
        data = yaml.load(text.decode("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (UnicodeDecodeError, yaml.YAMLError):
        data = None
    if not isinstance(data, dict) or data.get(key) != expected or type(data.get(key)) is not type(expected):
        raise WorkflowError(
            f"{path}: could not set {key} to {expected!r} by editing its one line "
            f"(is it written across several lines?); set it by hand and commit"
        )
