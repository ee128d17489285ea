"""debug-leak: nothing of a debug branch reaches another branch."""

from __future__ import annotations

from policy.config import Policy
from policy.model import Change, Violation
from policy.rules._base import q, rewrite, run_folder, violation

ID = "debug-leak"


def check_path(change: Change, ref: str, commit: str, branch: str, policy: Policy) -> list[Violation]:
    """A non-debug branch receives a file under tasks/debug-*/ (deleting one is the fix, not a leak)."""
    if change.deleted or not policy.is_debug_path(change.path):
        return []
    return [
        violation(
            ID,
            f"debug run files reach {branch}",
            path_fix(change.path, commit, policy),
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
            undo_merge(merge),
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
            "from), and carry code fixes over with git cherry-pick onto a feature or hotfix branch, "
            "where they get a commit of their own",
            ref=ref,
            commit=commit,
        )
    ]


def path_fix(path: str, commit: str, policy: Policy) -> str:
    """Take a debug run's folder out of the staged change, or out of the commit that added it."""
    folder = run_folder(path, policy.tasks_dir) or path
    drop = f"git rm -r -q --cached {q(folder)}"
    if not commit:
        return f"debug runs stay on their branch: unstage the folder, `{drop}`"
    return f"debug runs stay on their branch: take the folder out of {commit[:7]}, `{rewrite(commit, drop)}`"


def undo_merge(merge: str) -> str:
    """Undo a merge that brought debug work: before it exists (`git merge --abort`), or after."""
    tail = "; code fixes travel by git cherry-pick onto a feature or hotfix branch"
    if not merge:
        return f"debug branches are never merged: `git merge --abort`{tail}"
    return f"debug branches are never merged: undo the merge, `git reset -q --hard {merge[:12]}^`{tail}"
