"""Putting the repository back after a failed plan.

Why this is safe: every plan that moves HEAD starts from a clean work tree (tracked files), so
`git reset --hard` only discards what the plan itself wrote. Untracked files are never deleted:
git refuses to overwrite them on checkout, merge and read-tree, so they are still there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Callable, Optional

from policy.workflow.steps import GitStep, StepFailed, git
from policy.workflow.workspace import Workspace


@dataclass(frozen=True)
class Snapshot:
    head: str  # the checked-out branch, or the commit when HEAD was detached
    detached: bool
    refs: dict[str, Optional[str]]  # full ref -> what it pointed at (None: it did not exist)


def take(ws: Workspace, refs: Sequence[str]) -> Snapshot:
    branch = ws.current_branch()
    head = branch if branch is not None else (ws.sha("HEAD") or "")
    return Snapshot(head, branch is None, {ref: ws.git.resolve(ref) for ref in dict.fromkeys(refs)})


def undo_steps(ws: Workspace, snap: Snapshot, created: Sequence[str]) -> list[GitStep]:
    """The git commands that put refs, HEAD, index and work tree back as `snap` saw them."""
    steps: list[GitStep] = []
    if ws.in_progress() == "a merge":
        steps.append(git("merge", "--abort"))
    steps.append(git("reset", "-q", "--hard"))
    cleaned = len(steps)
    current = ws.current_branch()
    if snap.detached:
        steps.append(git("checkout", "-q", "--detach", snap.head))
    elif current != snap.head:
        steps.append(git("checkout", "-q", snap.head))
    for ref, old in snap.refs.items():
        now = ws.git.resolve(ref)
        if now == old:
            continue
        steps.append(git("update-ref", ref, old) if old else git("update-ref", "-d", ref))
    keys = _config_keys(ws)
    for branch in created:
        if snap.refs.get(f"refs/heads/{branch}") is None and any(k.startswith(f"branch.{branch}.") for k in keys):
            steps.append(git("config", "--remove-section", f"branch.{branch}"))
    if len(steps) > cleaned:
        steps.append(git("reset", "-q", "--hard"))  # the files of the restored HEAD
    return steps


def restore(ws: Workspace, snap: Snapshot, created: Sequence[str], echo: Callable[[str], None]) -> list[str]:
    """Run the undo steps; returns the ones that failed (to print for the user to run)."""
    failed: list[str] = []
    for step in undo_steps(ws, snap, created):
        echo(f"+ {step.show()}")
        try:
            step.run(ws.top)
        except StepFailed:
            failed.append(step.show())
    return failed


def _config_keys(ws: Workspace) -> list[str]:
    out = ws.git.try_run("config", "--local", "--list", "--name-only")
    return out.decode("utf-8", "surrogateescape").splitlines() if out else []
