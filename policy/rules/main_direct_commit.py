"""main-direct-commit: every commit on main's first-parent line is a merge, a squash merge or a
version bump (except the push that creates main in a repository that has none)."""

from __future__ import annotations

from policy.commitmsg import squash_record
from policy.config import Policy
from policy.model import Commit, Violation
from policy.rules._base import violation

ID = "main-direct-commit"

MERGE, SQUASH, BUMP, DIRECT = "merge", "squash", "bump", "direct"


def classify(commit: Commit, policy: Policy) -> str:
    if commit.is_merge:
        return MERGE
    if squash_record(commit.message, policy.settings("squash-merge")["trailer"]):
        return SQUASH
    if len(commit.changes) == 1 and commit.changes[0].path == policy.main_config and commit.changes[0].status == "M":
        return BUMP  # a candidate: version-bump decides whether it really is one
    return DIRECT


def check(commit: Commit, ref: str, main: str, policy: Policy) -> list[Violation]:
    if classify(commit, policy) != DIRECT:
        return []
    return [
        violation(
            ID,
            f"commit was made directly on {main}",
            f"{main} takes only merges: commit on dev (or a hotfix-*/task-* branch) and merge it with "
            f"git merge --no-ff or --squash; a release changes only {policy.version_key} in {policy.main_config}",
            ref=ref,
            commit=commit.sha,
        )
    ]
