"""Branch and tag names: templates such as `task-{semver}-{time}-{slug}` and semantic versions."""

from __future__ import annotations

import re
from typing import NamedTuple, Optional

from policy.patterns import Pattern, compile_user, escape

SEMVER_RE = r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)"
_SEMVER = re.compile(rf"\A{SEMVER_RE}\Z")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class Semver(NamedTuple):
    major: int
    minor: int
    patch: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


def parse_semver(text: object) -> Optional[Semver]:
    if not isinstance(text, str) or not _SEMVER.match(text):
        return None
    try:
        major, minor, patch = (int(x) for x in text.split("."))
    except ValueError:  # more digits than int() takes (a hostile file): no version anyone released
        return None
    return Semver(major, minor, patch)


def template_regex(template: str, placeholders: dict[str, str]) -> str:
    """`task-{semver}-{time}-{slug}` -> the RE2 source of a regex with named groups, to be matched
    whole. Literal text is escaped; each `{name}` becomes `(?P<name>...)` from `placeholders`.
    Raises KeyError for an unknown placeholder."""
    out, pos, seen = [], 0, set()
    for m in _PLACEHOLDER.finditer(template):
        out.append(escape(template[pos : m.start()]))
        name = m.group(1)
        body = placeholders[name]
        out.append(f"(?:{body})" if name in seen else f"(?P<{name}>{body})")
        seen.add(name)
        pos = m.end()
    out.append(escape(template[pos:]))
    return "".join(out)


def literal_ends(template: str) -> tuple[str, str]:
    """The literal text before the first placeholder and after the last (the whole template when
    it has none): every name the template's regex matches whole starts and ends with them (the
    placeholders' patterns sit in groups of their own, so their flags cannot reach the literals)."""
    found = list(_PLACEHOLDER.finditer(template))
    if not found:
        return template, ""
    return template[: found[0].start()], template[found[-1].end() :]


def compile_template(template: str, placeholders: dict[str, str]) -> Pattern:
    """`template_regex`, compiled (RE2: use `fullmatch`). Raises KeyError for an unknown
    placeholder and PatternError for a placeholder RE2 does not accept."""
    return compile_user(template_regex(template, placeholders))


def example(template: str) -> str:
    """A readable example name for hints: task-{semver}-{time}-{slug} -> task-0.1.0-20261126-my-run."""
    samples = {"semver": "0.1.0", "time": "20261126-1200", "slug": "my-change"}
    return _PLACEHOLDER.sub(lambda m: samples.get(m.group(1), m.group(1)), template)
