"""commit-message: the conventional subject (`type(scope)!: description`) on every commit.

Conventional Commits 1.0.0, plus what git and the hosting platforms write themselves (merge,
revert and autosquash messages), each behind a setting. A refusal says the corrected line when the
slip is mechanical; `fix: true` lets the commit-msg hook correct those slips in place (`fixed`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, NamedTuple, Optional

from policy.commitmsg import (
    TYPE_RE,
    is_autosquash,
    is_git_merge_message,
    is_revert_message,
    is_revert_subject,
    line_after_subject,
    parse_subject,
    subject_line,
)
from policy.config import Policy
from policy.model import Commit, Violation
from policy.rules._base import q, violation

ID = "commit-message"

# A subject that is nearly conventional: a type-like word, maybe a scope and a '!', then whatever
# separates it from the description (the right one is ': ').
_LOOSE = re.compile(
    rf"\A(?P<type>{TYPE_RE})(?P<scope>\([^()\r\n]*\))?(?P<bang>!)?(?P<sep>\s*:\s*|\s+|\Z)(?P<description>(?:\S.*)?)\Z"
)


class Reading(NamedTuple):
    """What is wrong with a subject, and the corrected subject when the slip is mechanical."""

    problems: list[str]
    suggestion: Optional[str]  # the subject as it should read, when we know it
    fixable: bool  # the suggestion only changes type case or the separator: safe to apply


@lru_cache(maxsize=32)
def _re2(pattern: str) -> Any:
    import re2  # a user's pattern: linear time whatever the message; imported only when asked

    return re2.compile(pattern)


def _utf8(text: str) -> str:
    """The text RE2 can take: bytes that are not UTF-8 (kept as surrogate escapes) become U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _known_type(written: str, settings: dict[str, Any]) -> Optional[str]:
    """The listed type this written one is, whatever its case (the first listed, as listed)."""
    return _types_by_case(tuple(settings["types"])).get(written.lower())


@lru_cache(maxsize=8)
def _types_by_case(types: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for t in types:
        found.setdefault(t.lower(), t)
    return found


def _scope_problems(scope: Optional[str], settings: dict[str, Any]) -> list[str]:
    allowed = settings["scopes"]
    if scope is None:
        if settings["scope_required"]:
            listed = f" (one of {', '.join(allowed)})" if isinstance(allowed, list) and allowed else ""
            return [f"a scope is required here: 'type(scope): description'{listed}"]
        return []
    if not scope.strip():
        return ["the scope '()' is empty: name one or leave the parentheses out"]
    if isinstance(allowed, str):
        if not _re2(allowed).fullmatch(_utf8(scope)):
            return [f"scope {scope!r} does not match the pattern {allowed!r}"]
    elif allowed and scope not in allowed:
        import difflib  # only when a message is refused: not on every push's import path

        close = difflib.get_close_matches(scope, allowed, n=1)
        guess = f" (did you mean {close[0]!r}?)" if close else ""
        return [f"scope {scope!r} is not one of {', '.join(allowed)}{guess}"]
    return []


def read_subject(subject: str, settings: dict[str, Any]) -> Reading:
    """Judge a conventional subject (type, scope, separator, description, case)."""
    parsed = parse_subject(subject)
    loose = None if parsed else _LOOSE.match(subject)
    if parsed is None and loose is None:
        return Reading([f"subject {subject!r} is not 'type(scope)!: description'"], None, False)
    written = parsed.type if parsed else loose["type"]  # type: ignore[index]
    known = _known_type(written, settings)
    problems: list[str] = []
    fixable = True
    if parsed is None:  # a separator other than ': '
        assert loose is not None
        sep = loose["sep"]
        head = f"{written}{loose['scope'] or ''}{loose['bang'] or ''}"
        if not loose["description"]:  # 'feat:' (git drops the trailing space)
            if ":" not in sep:
                return Reading([f"subject {subject!r} is not 'type(scope)!: description'"], None, False)
        elif ":" in sep:
            problems.append(f"write ': ' (a colon, then one space) after {head!r}")
        elif known is None:  # 'Update README': no type at all, nothing to suggest
            return Reading([f"subject {subject!r} is not 'type(scope)!: description'"], None, False)
        else:
            problems.append(f"add ':' after the type {head!r}")
            # `fix typo`: probably the type, but only a scope or a colon makes it certain
            fixable = loose["scope"] is not None
        scope = loose["scope"][1:-1] if loose["scope"] else None
        bang, description = bool(loose["bang"]), loose["description"].strip()
    else:
        scope, bang, description = parsed.scope, parsed.breaking, parsed.description
    right_type = written
    if known is None:
        import difflib

        close = difflib.get_close_matches(written.lower(), settings["types"], n=1)
        problems.append(f"type {written!r} is not one of {', '.join(settings['types'])}")
        fixable = False
        right_type = close[0] if close else ""
    elif settings["type_case"] == "lower" and written != written.lower():
        problems.append(f"type {written!r} is written {written.lower()!r} here")
        right_type = written.lower()
    scope_found = _scope_problems(scope, settings)
    if scope is not None and not scope.strip() and not settings["scope_required"]:
        scope, scope_found = None, []  # `feat(): x`: refused, and 'feat: x' is the suggestion
        problems.append("the scope '()' is empty: name one or leave the parentheses out")
        fixable = False
    elif scope_found:
        fixable = False
    problems += scope_found
    if not description:
        head = f"{written}{f'({scope})' if scope is not None else ''}{'!' if bang else ''}"
        problems.append(f"the description after '{head}: ' is empty")
        fixable = False
    suggestion = None
    if right_type and problems and not scope_found and description:
        suggestion = f"{right_type}{f'({scope})' if scope else ''}{'!' if bang else ''}: {description}"
    return Reading(problems, suggestion, fixable and suggestion is not None)


def _platform_merge(message: str, settings: dict[str, Any]) -> bool:
    text = _utf8(message)
    return any(_re2(p).match(text) for p in settings["platform_merge_messages"].values())


def problems(message: str, is_merge: bool, strict: bool, policy: Policy) -> list[str]:
    """What is wrong with a message ([] when it is fine). `strict`: merges must conform too."""
    return judge_message(message, is_merge, strict, policy)[0]


def judge_message(message: str, is_merge: bool, strict: bool, policy: Policy) -> tuple[list[str], Optional[Reading]]:
    """The problems, and the reading of the subject when it was judged as a conventional one."""
    settings = policy.settings(ID)
    subject = subject_line(message)
    if not subject:
        return ["the message is empty"], None
    if is_merge and not strict:
        if settings["allow_git_merge_messages"] and is_git_merge_message(subject):
            return [], None
        if settings["allow_platform_merge_messages"]:
            # a platform's merge message passes whatever else it is: asked only when the message
            # fails otherwise (the users' patterns cost more than the conventional reading)
            found, reading = _judge_subject(message, subject, strict, settings)
            return ([], None) if found and _platform_merge(message, settings) else (found, reading)
    return _judge_subject(message, subject, strict, settings)


def _judge_subject(
    message: str, subject: str, strict: bool, settings: dict[str, Any]
) -> tuple[list[str], Optional[Reading]]:
    if is_autosquash(subject):
        if strict:
            kind = subject.split(" ", 1)[0]
            return [f"{kind} commits are folded into the commit they fix before they land here"], None
        if settings["allow_autosquash_messages"]:
            return [], None
    if settings["allow_revert_messages"] and is_revert_message(message):
        return [], None
    if settings["allow_revert_messages"] and is_revert_subject(subject):
        return ["a revert names the reverted commit in its body: 'This reverts commit <sha>.'"], None
    reading = read_subject(subject, settings)
    found = list(reading.problems)
    if reading.suggestion:
        found[-1] += f": did you mean {reading.suggestion!r}?"
    limit = settings["max_subject_length"]
    if len(subject) > limit:
        found.append(f"subject is {len(subject)} characters, {len(subject) - limit} over the limit of {limit}")
    if line_after_subject(message):
        found.append("line 2 is not blank: leave an empty line between the subject and the body")
    return found, reading


def fixed(message: str, policy: Policy) -> Optional[str]:
    """The message with its mechanical slips corrected (type case, the ': ' separator, the blank
    line after the subject), or None when there is nothing safe to correct. The rest of the message
    is kept as written."""
    settings = policy.settings(ID)
    subject = subject_line(message)
    if not subject or is_autosquash(subject) or is_revert_message(message):
        return None
    lines = message.split("\n")
    at = next(i for i, line in enumerate(lines) if line.strip())
    changed = False
    reading = read_subject(subject, settings)
    if reading.fixable and reading.suggestion and reading.suggestion != subject:
        lines[at] = reading.suggestion
        changed = True
    if at + 1 < len(lines) and lines[at + 1].strip() and not lines[at + 1].startswith("#"):
        lines.insert(at + 1, "")
        changed = True
    return "\n".join(lines) if changed else None


def hint(is_merge: bool, strict: bool, policy: Policy, written: bool = True, branch: str = "main") -> str:
    """`written`: the commit exists (the server, a CI range) rather than being made (commit-msg)."""
    types = policy.settings(ID)["types"]
    if is_merge and strict:
        return f"merges onto {branch} need a conventional message too: git merge --no-ff BRANCH -m '{types[0]}: ...'"
    how = " (git commit --amend, or git rebase -i for older commits)" if written else ""
    return f"write it as '<{'|'.join(types)}>(scope): description', e.g. 'feat(model): add attention'{how}"


def hint_for(message: str, is_merge: bool, strict: bool, policy: Policy, written: bool, branch: str) -> str:
    subject = subject_line(message)
    if strict and is_autosquash(subject):
        if written:
            return f"fold it into the commit it fixes before pushing: git rebase -i --autosquash origin/{branch}"
        return f"make it on your own branch and fold it there before merging: git rebase -i --autosquash {branch}"
    if not written:
        better = proposal(message, is_merge, strict, policy)
        if better is not None:
            return f"commit it again with a message the rule takes, `git commit -q -m {q(better)}`"
    return hint(is_merge, strict, policy, written, branch)


_MERGED = (
    re.compile(r"\AMerge (?:remote-tracking )?branch '(?:[^'/]+/)?([^']+)'"),
    re.compile(r"\AMerge pull request #\d+ from [^/\s]+/(\S+)"),
    re.compile(r"\AMerge branch (\S+)"),
)


def merged_name(subject: str) -> Optional[str]:
    """The branch a merge message names (git's, GitHub's or GitLab's words), or None."""
    for pattern in _MERGED:
        found = pattern.match(subject)
        if found:
            return found.group(1).strip("'")
    return None


def _pick(wanted: str, types: list[str]) -> str:
    return wanted if wanted in types else types[0]


def proposal(message: str, is_merge: bool, strict: bool, policy: Policy, merged: str = "") -> Optional[str]:
    """A message the rule takes for this one: the corrected line of a mechanical slip, `chore: ...`
    around a subject with no type, `<type>: merge <branch>` for a merge (`merged`: its second parent,
    named when the message does not say). None when none can be proposed safely (a required scope,
    characters a shell word or sed would need escapes for)."""
    settings = policy.settings(ID)
    if settings["scope_required"]:
        return None
    types = settings["types"]
    subject = subject_line(message)
    limit = settings["max_subject_length"]
    if is_merge:
        name = merged_name(subject)
        kind = policy.kind_of(name) if name else None
        kind_type = {"task": "task", "hotfix": "fix"}.get(kind or "", "feat")
        text = f"{_pick(kind_type, types)}: merge {name or merged[:7] or 'a branch'}"
    else:
        reading = read_subject(subject, settings) if subject else None
        if reading is not None and reading.suggestion:
            text = reading.suggestion
        else:
            text = f"{_pick('chore', types)}: {subject or 'describe the change'}"
    text = text[:limit].rstrip()
    if not shell_safe(text) or problems(text, False, strict, policy):
        return None
    return text


def reword(commit: Commit, branch: str, strict: bool, policy: Policy) -> Optional[str]:
    """The commands that give an existing commit a message the rule takes, or None."""
    if not commit.parents:
        return None
    merged = commit.parents[1] if len(commit.parents) == 2 else ""
    if commit.is_merge and not merged:
        return None
    message = proposal(commit.message, commit.is_merge, strict, policy, merged)
    if message is None:
        return None
    if commit.is_merge:
        return (
            f"merges onto {branch} need a conventional message too: merge again with one, "
            f"`git reset -q --hard {commit.parents[0][:12]} && git merge --no-ff -q {merged[:12]} -m {q(message)}`"
        )
    return f"reword it (the commits after it are kept), `{rebase_reword(commit.sha, message)}`"


def shell_safe(message: str) -> bool:
    """A subject that a single-quoted shell word and a sed replacement take as it is."""
    return not re.search(r"['\"`$\\|&\n]", message)


def rebase_reword(sha: str, message: str) -> str:
    """Give commit `sha` the subject `message` (shell_safe), keeping its body and the commits after it
    (merges included): an interactive rebase whose editors are sed."""
    c = sha[:12]
    return (
        f"GIT_SEQUENCE_EDITOR=\"sed -i.bak 's/^pick {c}/reword {c}/'\" "
        f"GIT_EDITOR=\"sed -i.bak '1s|.*|{message}|'\" git -c core.abbrev=12 rebase -q -i -r {c}^"
    )


def check(commit: Commit, ref: str, strict: bool, policy: Policy) -> list[Violation]:
    found = problems(commit.message, commit.is_merge, strict, policy)
    if not found:
        return []
    branch = ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else ref
    tip = hint_for(commit.message, commit.is_merge, strict, policy, True, branch)
    if not (strict and is_autosquash(subject_line(commit.message))):
        tip = reword(commit, branch, strict, policy) or tip
    return [violation(ID, "; ".join(found), tip, ref=ref, commit=commit.sha)]
