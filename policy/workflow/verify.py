"""The engine's verdicts, asked the way the server will ask them.

Before a merge: `merge_judge`, the pull-request verdict (every commit the source brings).
After a plan: `judge` on the refs the user is about to push, from the refs the server has now
(its remote-tracking refs), so a command is done only when its push would be accepted.
"""

from __future__ import annotations

from collections.abc import Sequence

from policy.engine import RepoState, judge, merge_judge
from policy.gitio import decode
from policy.model import ZERO, RefUpdate, Violation, branch_name, tag_name
from policy.workflow.workspace import Workspace


def merge_verdict(ws: Workspace, source: str, source_sha: str, target: str, target_sha: str) -> list[Violation]:
    """What the server says about merging `source` into `target`, asked before touching anything."""
    return merge_judge(ws.git, ws.policy, ws.state(), source, source_sha, target, target_sha).out


def server_value(state: RepoState, ref: str) -> str:
    """Where the server has `ref` (ZERO: it does not have it)."""
    branch, tag = branch_name(ref), tag_name(ref)
    if branch is not None:
        return state.branches.get(branch, ZERO)
    if tag is not None:
        return state.tags.get(tag, ZERO)
    return ZERO


def push_updates(ws: Workspace, before: RepoState, refs: Sequence[str]) -> list[RefUpdate]:
    """The ref updates of `git push <remote> <refs>`: from the server's value to the local one."""
    updates = []
    for ref in dict.fromkeys(refs):
        new = ws.git.resolve(ref)
        old = server_value(before, ref)
        if new is not None and new != old:
            updates.append(RefUpdate(ref, old, new))
    return updates


def push_verdict(ws: Workspace, before: RepoState, updates: Sequence[RefUpdate]) -> list[Violation]:
    return judge(ws.git, ws.policy, before, updates) if updates else []


def push_command(ws: Workspace, updates: Sequence[RefUpdate]) -> str:
    names = [branch_name(u.ref) or tag_name(u.ref) or u.ref for u in updates]
    return f"git push {ws.remote} {' '.join(names)}" if ws.remote and names else ""


def paths_outside_tasks(ws: Workspace, target_sha: str, merged_tree: str) -> list[str]:
    """Paths outside tasks/ that a merge with tree `merged_tree` changes on the target: a task
    merge (type task) may change only tasks/ (task-type), so these make the server refuse it."""
    out = ws.git.run("diff-tree", "-r", "-z", "--name-only", "--no-renames", target_sha, merged_tree)
    return [p for p in (decode(x) for x in out.split(b"\0")) if p and not ws.policy.in_tasks(p)]
