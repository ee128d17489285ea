"""How verdicts are printed: text (one line per violation, then a count), JSON, GitHub annotations.

Text that comes from commits (messages, paths, branch names) is printed with control characters
escaped, so a crafted file name cannot rewrite the terminal or forge extra output lines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple, Optional

from policy.model import Violation, short

FORMATS = ("text", "json", "github")

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


_UNSAFE = re.compile("[\\\\\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escaped(match: re.Match[str]) -> str:
    ch = match.group()
    code = ord(ch)
    if ch in _NAMED:
        return _NAMED[ch]
    if code < 0x20 or 0x7F <= code < 0xA0:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"  # other surrogates, line and paragraph separators, bidi controls


def escape(text: str) -> str:
    """Control characters, invalid bytes (surrogate escapes) and bidi overrides made visible."""
    return _UNSAFE.sub(_escaped, text)


def where(v: Violation) -> str:
    if v.path:
        return v.path
    if v.ref.startswith("refs/heads/"):
        return v.ref[len("refs/heads/") :]
    return v.ref or "-"


class Judged(NamedTuple):
    """What a check judged: `label` (a branch, a tag, 'x into y'), the range, how many commits."""

    label: str
    old: str
    new: str
    commits: int

    def line(self, count: int) -> str:
        """`dev: 3,466 commits judged (0000000..1fd1be0), 0 violations`: a range that judges
        nothing says so, instead of passing like a clean one."""
        many = "" if self.commits == 1 else "s"
        span = f"{short(self.old)}..{short(self.new)}"
        return f"{escape(self.label)}: {self.commits:,} commit{many} judged ({span}), {_violations(count)}"


def _violations(count: int) -> str:
    return f"{count} violation{'s' if count != 1 else ''}"


_BRINGS = "merge brings "


def mistakes(violations: Sequence[Violation]) -> list[Violation]:
    """One line per mistake, for people: the paths one commit changes against the same rule share a
    line; a merge that brings debug work is one debug-leak (not one per file, plus a merge-source for
    a source the server cannot see); task-scope's fix also fixes task-type on the same commit, and
    unsafe-path's fix whatever else the same path broke.
    `--format json` keeps every violation."""
    debug_commits = {v.commit[:7] for v in violations if v.rule == "debug-leak" and v.path}
    merges: dict[str, Violation] = {}
    for v in violations:
        brought = v.message[len(_BRINGS) : len(_BRINGS) + 7] if v.message.startswith(_BRINGS) else ""
        if v.commit and brought and (v.rule == "debug-leak" or brought in debug_commits):
            merges.setdefault(v.ref, v)
    # debug commits that reach a ref by another route (a fast-forward, a new branch) are one line too
    routes = {v.ref for v in violations if v.rule == "debug-leak" and not v.path and v.ref not in merges}
    scoped = {(v.ref, v.commit) for v in violations if v.rule == "task-scope"}
    # a path git will not check out: rebuilding the commit without it fixes what else it broke
    unsafe = {(v.ref, v.commit, v.path) for v in violations if v.rule == "unsafe-path"}
    out: list[Violation] = []
    index: dict[tuple[str, str, str, str], int] = {}
    extra: dict[int, list[str]] = {}
    for v in violations:
        if v.rule == "task-type" and v.path and (v.ref, v.commit) in scoped:
            continue
        if v.rule != "unsafe-path" and (v.ref, v.commit, v.path) in unsafe:
            continue
        if v.rule == "debug-leak" and v.path and v.ref in routes:
            continue
        merge = merges.get(v.ref)
        if merge is not None and (v.rule == "debug-leak" or v is merge):
            if v is not merge and not (v.rule == "debug-leak" and v.path):
                continue
            from policy.rules.debug_leak import undo_merge

            branch = where(Violation(v.rule, v.ref, "", "", "", ""))
            v = Violation("debug-leak", v.ref, merge.commit, "", f"a merge brings debug run files into {branch}",
                          undo_merge(merge.commit))  # fmt: skip
        key = (v.rule, v.ref, v.commit, v.hint)
        if key in index:
            i = index[key]
            if v.path and v.path != out[i].path and v.path not in extra[i]:
                extra[i].append(v.path)
            continue
        index[key] = len(out)
        extra[len(out)] = []
        out.append(v)
    return [v._replace(message=_more(v.message, extra[i])) if extra[i] else v for i, v in enumerate(out)]


def _more(message: str, paths: list[str], shown: int = 10) -> str:
    """The other paths of one mistake, named on its line (escaped when printed)."""
    listed = ", ".join(paths[:shown]) + (", ..." if len(paths) > shown else "")
    return f"{message} (and {len(paths)} more: {listed})"


HINT_INDENT = "    "


def use_color(stream: object) -> bool:
    """Colour for a person at a terminal: never when NO_COLOR is set or the output is not a TTY."""
    import os

    isatty = getattr(stream, "isatty", None)
    return not os.environ.get("NO_COLOR") and bool(isatty and isatty())


def width(stream: object) -> int:
    """The terminal's width for wrapping hints, 0 (no wrapping) when the output is not a terminal."""
    isatty = getattr(stream, "isatty", None)
    if not (isatty and isatty()):
        return 0
    import shutil

    return max(shutil.get_terminal_size((100, 24)).columns, 40)


def _paint(text: str, code: str, color: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if color else text


def text_lines(
    violations: Sequence[Violation], prefix: str = "", judged: Optional[Judged] = None, *, pending: str = "-",
    color: bool = False, columns: int = 0,
) -> list[str]:  # fmt: skip
    """One line per mistake (rule, short sha, where, what), then its hint on an indented line of its
    own, wrapped to `columns` when given. `pending`: what stands for a commit that does not exist yet
    (the client's staged change: "staged")."""
    import textwrap

    lines = []
    for v in mistakes(violations):
        sha = short(v.commit) if v.commit else pending
        rule = _paint(v.rule, "1;31", color)
        place = _paint(escape(where(v)), "36", color)
        lines.append(f"{prefix}{rule}  {sha}  {place}  {escape(v.message)}")
        hint = f"hint: {escape(v.hint)}"
        if columns:
            room = max(columns - len(prefix) - len(HINT_INDENT), 30)
            wrapped = textwrap.wrap(hint, room, subsequent_indent="      ", break_long_words=False,
                                    break_on_hyphens=False)  # fmt: skip
        else:
            wrapped = [hint]
        lines += [f"{prefix}{HINT_INDENT}{part}" for part in wrapped]
    count = len(violations)
    lines.append(prefix + (judged.line(count) if judged else _violations(count)))
    return lines


def as_json(violations: Sequence[Violation], judged: Optional[Judged] = None) -> str:
    import json

    out: dict[str, object] = {"ok": not violations}
    if judged is not None:
        out["judged"] = judged.commits
    out["violations"] = [
        {
            "rule": v.rule,
            "ref": escape(v.ref),
            "commit": v.commit,
            "path": escape(v.path),
            "message": escape(v.message),
            "hint": escape(v.hint),
        }
        for v in violations
    ]
    return json.dumps(out, indent=2)


def _gh(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def github_lines(violations: Sequence[Violation], judged: Optional[Judged] = None) -> list[str]:
    lines = []
    for v in violations:
        props = [f"title={_gh(v.rule + ' ' + short(v.commit), prop=True)}"]
        if v.path:
            props.insert(0, f"file={_gh(escape(v.path), prop=True)}")
        lines.append(f"::error {','.join(props)}::{_gh(escape(v.message))} (hint: {_gh(escape(v.hint))})")
    lines.append(judged.line(len(violations)) if judged else _violations(len(violations)))
    return lines


def render(
    violations: Sequence[Violation], fmt: str = "text", prefix: str = "", judged: Optional[Judged] = None,
    stream: object = None, pending: str = "-",
) -> str:  # fmt: skip
    """`stream`: where the text goes; a terminal gets colour (unless NO_COLOR) and wrapped hints."""
    if fmt == "json":
        return as_json(violations, judged)
    if fmt == "github":
        return "\n".join(github_lines(violations, judged))
    return "\n".join(
        text_lines(violations, prefix, judged, pending=pending, color=use_color(stream), columns=width(stream))
    )
