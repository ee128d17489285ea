"""task-type: a merge of a task branch into main/dev has type `task`; a `task` commit changes
only paths under tasks/."""

from __future__ import annotations

from collections.abc import Sequence

from policy.commitmsg import commit_type
from policy.config import Policy
from policy.model import Change, Commit, Violation
from policy.rules._base import made, violation

ID = "task-type"


def task_type(policy: Policy) -> str:
    return str(policy.settings(ID)["type"])


def check_paths(commit: Commit, ref: str, changes: Sequence[Change], policy: Policy) -> list[Violation]:
    """A commit of type task (for a merge: its diff against the first parent) stays in tasks/."""
    if commit_type(commit.message) != task_type(policy):
        return []
    outside = [c.path for c in changes if not policy.in_tasks(c.path)]
    hint = _retype(commit, policy)
    return [
        violation(
            ID,
            f"a '{task_type(policy)}' commit changes {path}, outside {policy.tasks_dir}/",
            hint,
            ref=ref,
            commit=commit.sha,
            path=path,
        )
        for path in outside
    ]


def _retype(commit: Commit, policy: Policy) -> str:
    """Give the commit the type of a code change (or split it: what is under tasks/ stays task)."""
    from policy.commitmsg import subject_line
    from policy.rules.commit_message import rebase_reword, shell_safe

    wanted = task_type(policy)
    types = [t for t in policy.settings("commit-message")["types"] if t != wanted]
    subject = subject_line(commit.message)
    _head, colon, rest = subject.partition(":")
    message = f"{types[0]}:{rest}" if colon and types else ""
    why = f"a '{wanted}' commit stays in {policy.tasks_dir}/: give it the type of a code change"
    if not message or not shell_safe(message) or len(message) > policy.settings("commit-message")["max_subject_length"]:
        return f"{why} (feat, fix, chore, ...), or split it"
    if not made(commit.sha):
        return f"{why}, `git commit -q -m '{message}'`"
    return f"{why}, `{rebase_reword(commit.sha, message)}`"


def check_task_merge(commit: Commit, ref: str, target: str, source: str, policy: Policy) -> list[Violation]:
    """`commit` merges task branch `source` into `target` (main or dev): its type must be task."""
    found = commit_type(commit.message)
    wanted = task_type(policy)
    if found == wanted:
        return []
    return [
        violation(
            ID,
            f"merge of task branch {source} into {target} has type {found or 'none'}, not '{wanted}'",
            _redo(commit.sha, source, f"{wanted}: results of {policy.name_field(source, 'slug') or source}"),
            ref=ref,
            commit=commit.sha,
        )
    ]


def _redo(merge: str, source: str, message: str) -> str:
    """Make the merge again with a message of the task type (or, before it exists, commit it so)."""
    if not merge:
        return f"commit the merge with a task message, `git commit -q -m '{message}'`"
    redo = f"git reset -q --hard {merge[:12]}^ && git merge -q --no-ff {source} -m '{message}'"
    return f"redo the merge with a task message, `{redo}`"


def check_not_task_merge(commit: Commit, ref: str, target: str, source: str, policy: Policy) -> list[Violation]:
    """`commit` is typed task but merges no task branch (`source` says what it merges)."""
    wanted = task_type(policy)
    return [
        violation(
            ID,
            f"merge into {target} has type '{wanted}' but merges {source}, not a task run",
            f"'{wanted}' is for merges of task branches: give the merge the type of what it brings, "
            f"`git reset -q --hard {commit.sha[:12]}^ && git merge -q --no-ff {commit.parents[1][:12]} "
            f"-m 'feat: release {source}'`",
            ref=ref,
            commit=commit.sha,
        )
    ]
