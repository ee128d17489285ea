"""task-scope: a task branch's own commits change only tasks/<its branch name>/."""

from __future__ import annotations

from policy.config import Policy
from policy.model import Commit, Violation
from policy.rules._base import violation

ID = "task-scope"


def check(commit: Commit, ref: str, branch: str, policy: Policy) -> list[Violation]:
    folder = policy.task_folder(branch)  # ends with '/', so task-a/ never covers task-ab/
    return [
        violation(
            ID,
            f"task branch {branch} changes a path outside {folder}",
            f"a task branch changes only {folder}; make code changes on dev, a feature-* or a "
            "hotfix-* branch (or add a setting to the task's config.yaml)",
            ref=ref,
            commit=commit.sha,
            path=change.path,
        )
        for change in commit.changes
        if not change.path.startswith(folder)
    ]
