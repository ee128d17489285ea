"""commit-message: the conventional subject (`type(scope)!: description`) on every commit."""

from __future__ import annotations

from policy.commitmsg import is_git_merge_message, parse_subject, subject_line
from policy.config import Policy
from policy.model import Commit, Violation
from policy.rules._base import violation

ID = "commit-message"


def problems(message: str, is_merge: bool, strict: bool, policy: Policy) -> list[str]:
    """What is wrong with a message ([] when it is fine). `strict`: merges must conform too."""
    settings = policy.settings(ID)
    subject = subject_line(message)
    if not subject:
        return ["the message is empty"]
    if is_merge and not strict and settings["allow_git_merge_messages"] and is_git_merge_message(subject):
        return []
    found = []
    parsed = parse_subject(subject)
    if parsed is None:
        found.append(f"subject {subject!r} is not 'type(scope)!: description'")
    else:
        if parsed.type not in settings["types"]:
            found.append(f"type {parsed.type!r} is not one of {', '.join(settings['types'])}")
        if not parsed.description:
            found.append("the description after 'type: ' is empty")
    limit = settings["max_subject_length"]
    if len(subject) > limit:
        found.append(f"subject is {len(subject)} characters, more than {limit}")
    return found


def hint(is_merge: bool, strict: bool, policy: Policy, written: bool = True) -> str:
    """`written`: the commit exists (the server, a CI range) rather than being made (commit-msg)."""
    types = policy.settings(ID)["types"]
    if is_merge and strict:
        return f"merges onto main need a conventional message too: git merge --no-ff <branch> -m '{types[0]}: ...'"
    how = " (git commit --amend, or git rebase -i for older commits)" if written else ""
    return f"write it as '<{'|'.join(types)}>(scope): description', e.g. 'feat(model): add attention'{how}"


def check(commit: Commit, ref: str, strict: bool, policy: Policy) -> list[Violation]:
    found = problems(commit.message, commit.is_merge, strict, policy)
    if not found:
        return []
    return [violation(ID, "; ".join(found), hint(commit.is_merge, strict, policy), ref=ref, commit=commit.sha)]
