"""Commit messages: the conventional subject, git's own merge messages, the squash record."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple, Optional

# A type is a letter, then letters, digits, '_' or '-' (i18n, build_deps, dev-deps): what the
# policy may list (config.py refuses any other type at load time).
TYPE_RE = r"[A-Za-z][A-Za-z0-9_-]*"
_CONVENTIONAL = re.compile(rf"\A(?P<type>{TYPE_RE})(?:\((?P<scope>[^()\r\n]*)\))?(?P<bang>!)?: (?P<description>.*)\Z")
# What `git merge` / `git pull` write when the user does not give a message.
_GIT_MERGE = re.compile(
    r"\AMerge (?:(?:remote-tracking )?branch(?:es)?|tags?|commits?) '[^'\n]+'"
    r"(?:(?:, | and )'[^'\n]+')*(?: of \S+)?(?: into \S+)?\Z"
)
# `git commit --fixup/--squash/--fixup=amend:` write these; `git rebase -i --autosquash` folds them.
_AUTOSQUASH = re.compile(r"\A(?:fixup|squash|amend)! ")
# `git revert` (and, since git 2.43, reverting a revert: `Reapply "..."`): the subject quotes the
# reverted one, the body names the reverted commit. A squash merge on GitHub appends " (#12)".
_REVERT_SUBJECT = re.compile(r'\A(?:Revert|Reapply) ".*"(?: \(#[0-9]+\))?\Z')
_REVERTS_COMMIT = re.compile(r"^This reverts commit [0-9a-f]{7,64}\b", re.MULTILINE)
_SCISSORS = re.compile(r"^# -+ >8 -+$", re.MULTILINE)


class Subject(NamedTuple):
    type: str
    scope: Optional[str]
    breaking: bool
    description: str


@lru_cache(maxsize=8)  # commit-message and task-type both ask, once each per commit
def subject_line(message: str) -> str:
    """The first non-blank line, as git splits lines: at "\n" only. (str.splitlines also splits
    at VT, FF, FS, NEL, U+2028 ..., which would let a long subject pass as a short one.)"""
    start = 0
    while True:  # without splitting the whole message: this runs for every commit of a range
        end = message.find("\n", start)
        line = message[start:] if end < 0 else message[start:end]
        if line.strip():
            return line.rstrip()
        if end < 0:
            return ""
        start = end + 1


@lru_cache(maxsize=8)  # commit-message and task-type both ask, once each per commit
def parse_subject(subject: str) -> Optional[Subject]:
    m = _CONVENTIONAL.match(subject)
    if not m:
        return None
    return Subject(m["type"], m["scope"], bool(m["bang"]), m["description"].strip())


def commit_type(message: str) -> Optional[str]:
    """The conventional type, lower-cased (types are case-insensitive in Conventional Commits)."""
    parsed = parse_subject(subject_line(message))
    return parsed.type.lower() if parsed else None


def is_git_merge_message(subject: str) -> bool:
    return bool(_GIT_MERGE.match(subject))


def is_autosquash(subject: str) -> bool:
    return bool(_AUTOSQUASH.match(subject))


def is_revert_subject(subject: str) -> bool:
    return bool(_REVERT_SUBJECT.match(subject))


def is_revert_message(message: str) -> bool:
    """`Revert "<subject>"` whose body says `This reverts commit <sha>.` (what git revert writes)."""
    subject = subject_line(message)
    return bool(_REVERT_SUBJECT.match(subject)) and bool(_REVERTS_COMMIT.search(message))


def line_after_subject(message: str) -> Optional[str]:
    """The line right after the subject, or None when the subject is the last line."""
    subject = subject_line(message)
    if not subject:
        return None
    start = message.find(subject)
    end = message.find("\n", start)
    if end < 0:
        return None
    nxt = message.find("\n", end + 1)
    line = message[end + 1 :] if nxt < 0 else message[end + 1 : nxt]
    return None if nxt < 0 and not line else line


def clean_message(raw: str, comment_char: str = "#") -> str:
    """What `git commit` keeps of an edited message (cleanup=strip / scissors).

    The commit-msg hook sees the file before git cleans it, so we clean it the same way.
    """
    cut = _SCISSORS.search(raw)
    if cut:
        raw = raw[: cut.start()]
    lines = [line.rstrip() for line in raw.splitlines() if not line.startswith(comment_char)]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + ("\n" if lines else "")


class SquashRecord(NamedTuple):
    branch: str
    commit: str


def squash_record(message: str, trailer: str) -> Optional[SquashRecord]:
    """`Squash-Merge: dev <40-hex>` anywhere after the subject (the last one wins)."""
    pattern = re.compile(
        rf"^{re.escape(trailer)}:[ \t]*(\S+)[ \t]+([0-9a-fA-F]{{40}})[ \t]*$",
        re.IGNORECASE | re.MULTILINE,
    )
    body = message.split("\n", 1)[1] if "\n" in message else ""
    found = pattern.findall(body)
    if not found:
        return None
    branch, commit = found[-1]
    return SquashRecord(branch, commit.lower())


def has_trailer_key(message: str, trailer: str) -> bool:
    body = message.split("\n", 1)[1] if "\n" in message else ""
    return bool(re.search(rf"^{re.escape(trailer)}:", body, re.IGNORECASE | re.MULTILINE))


def add_trailer(message: str, line: str) -> str:
    """Append a trailer line, in its own paragraph unless the last one is already trailers."""
    text = message.rstrip("\n")
    paragraphs = text.split("\n\n")
    last = paragraphs[-1] if len(paragraphs) > 1 else ""
    is_trailers = bool(last) and all(re.match(r"^[A-Za-z0-9-]+: ", ln) for ln in last.splitlines() if ln.strip())
    sep = "\n" if is_trailers else "\n\n"
    return f"{text}{sep}{line}\n"
