"""task-scope: a task branch's own commits change only tasks/<its branch name>/."""

from __future__ import annotations

from policy.config import Policy
from policy.model import Commit, Violation
from policy.rules._base import code_home, made, q, rewrite, run_folder, violation

ID = "task-scope"


def check(commit: Commit, ref: str, branch: str, policy: Policy) -> list[Violation]:
    folder = policy.task_folder(branch)  # ends with '/', so task-a/ never covers task-ab/
    outside = [change.path for change in commit.changes if not change.path.startswith(folder)]
    if not outside:
        return []
    hint = fix(outside, made(commit.sha), folder, policy)
    return [
        violation(
            ID, f"task branch {branch} changes a path outside {folder}", hint, ref=ref, commit=commit.sha, path=path
        )
        for path in outside
    ]


def fix(outside: list[str], commit: str, folder: str, policy: Policy) -> str:
    """One recipe for every path of the commit (or staged change) outside the run's folder: other
    runs' folders are put back as the branch has them; anything else is moved off the branch."""
    others = sorted({run_folder(p, policy.tasks_dir) for p in outside})
    if all(others):
        undo = "git restore --staged --worktree -- " + " ".join(q(f) for f in others)
        verb = "belongs" if len(others) == 1 else "belong"
        what = f"{', '.join(others)} {verb} to another run: put back what this branch has"
    else:
        undo = f"git stash push -q -- {q(':(exclude)' + folder)}"
        what = (
            f"a task branch changes only {folder}: move the rest off it (it waits in git stash; "
            f"git stash pop on {code_home(policy)}), or make it a setting in the run's config.yaml"
        )
    if not commit:
        return f"{what}, `{undo}`"
    return f"{what}, and redo {commit[:7]} without it, `{rewrite(commit, undo)}`"
