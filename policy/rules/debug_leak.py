"""debug-leak: nothing of a debug branch reaches another branch."""

from __future__ import annotations

from policy.config import Policy
from policy.model import Change, Violation
from policy.rules._base import violation

ID = "debug-leak"


def check_path(change: Change, ref: str, commit: str, branch: str, policy: Policy) -> list[Violation]:
    """A non-debug branch receives a file under tasks/debug-*/ (deleting one is the fix, not a leak)."""
    if change.deleted or not policy.is_debug_path(change.path):
        return []
    return [
        violation(
            ID,
            f"debug run files reach {branch}",
            "debug branches are never merged: drop these files from the commit "
            f"(git rm -r --cached {policy.tasks_dir}/<debug-folder>) and carry code fixes over "
            "with git stash / git cherry-pick onto dev or a hotfix branch",
            ref=ref,
            commit=commit,
            path=change.path,
        )
    ]


def check_merge(ref: str, merge: str, source: str, source_desc: str, target: str) -> list[Violation]:
    """A merge into a non-debug branch brings a commit that only debug branches contain."""
    return [
        violation(
            ID,
            f"merge brings {source[:7]}, which is only on {source_desc}, into {target}",
            "debug branches are never merged: git merge --abort (or reset the merge), then move "
            "code fixes with git stash / git cherry-pick onto dev or a hotfix branch",
            ref=ref,
            commit=merge,
        )
    ]


def check_route(ref: str, commit: str, debug_branches: list[str], target: str, count: int = 1) -> list[Violation]:
    """Commits that, before the push, only debug branches held land on a non-debug ref (by a merge,
    a fast-forward, a new branch, a tag: whatever the route). `commit`: the newest of `count`."""
    where = ", ".join(debug_branches[:3]) or "a debug branch"
    what = f"commit {commit[:7]} is" if count == 1 else f"{count} commits (the newest {commit[:7]}) are"
    return [
        violation(
            ID,
            f"{what} only on {where}; debug commits never reach {target}",
            f"take the commit out of what you push to {target} (start it again from the branch it came "
            "from), and carry code fixes over with git cherry-pick onto dev or a hotfix branch, "
            "where they get a commit of their own",
            ref=ref,
            commit=commit,
        )
    ]
