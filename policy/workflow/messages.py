"""Commit messages the commands write, and the checks on messages the user gives (-m), made with
the commit-message and task-type rules themselves so the server can never disagree."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

from policy.commitmsg import commit_type, subject_line
from policy.config import Policy
from policy.rules import commit_message
from policy.rules.task_type import task_type
from policy.workflow.errors import WorkflowError

# The conventional type of a merge, by the kind of branch merged (task: the policy's task type).
MERGE_TYPES = {"hotfix": "fix", "main": "chore", "dev": "feat", "feature": "feat"}


def subject_limit(policy: Policy) -> int:
    return int(policy.settings("commit-message")["max_subject_length"])


def fit(prefix: str, phrases: Sequence[str], limit: int) -> str:
    """`prefix + phrase` for the first phrase that keeps the subject within `limit` characters
    (long branch names would otherwise break the commit-message rule)."""
    for phrase in phrases:
        if len(prefix) + len(phrase) <= limit:
            return prefix + phrase
    return (prefix + phrases[-1])[:limit].rstrip()


def merge_type(policy: Policy, source_kind: Optional[str]) -> str:
    if source_kind == "task":
        return task_type(policy)
    return MERGE_TYPES.get(source_kind or "", "feat")


def merge_message(policy: Policy, source: str, source_kind: Optional[str], target: str) -> str:
    prefix = f"{merge_type(policy, source_kind)}: "
    return fit(prefix, [f"merge {source} into {target}", f"merge {source}", "merge a branch"], subject_limit(policy))


def check_message(
    policy: Policy,
    message: str,
    *,
    target: str,
    is_merge: bool,
    source: Optional[str] = None,
    source_kind: Optional[str] = None,
) -> None:
    """Refuse, before anything happens, a message the server would refuse on `target`."""
    if not subject_line(message):
        raise WorkflowError("the commit message is empty")
    if policy.enabled("commit-message"):
        strict = policy.kind_of(target) in policy.settings("commit-message")["strict_branches"]
        found = commit_message.problems(message, is_merge, strict, policy)
        if found:
            raise WorkflowError(f"commit message refused on {target} (commit-message): {'; '.join(found)}")
    if not policy.enabled("task-type"):
        return
    wanted, got = task_type(policy), commit_type(message)
    if source_kind == "task" and got != wanted:
        raise WorkflowError(
            f"a merge of task branch {source} has type '{wanted}', not '{got or 'none'}' (task-type): "
            f"-m '{wanted}: <what the run found>'"
        )
    if source_kind != "task" and got == wanted and source is not None:
        raise WorkflowError(
            f"type '{wanted}' is for task results, and {source} is not a task branch (task-type): "
            f"use {merge_type(policy, source_kind)}, chore, ..."
        )
