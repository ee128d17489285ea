"""`policy task finish`: merge a task run's results into main (and dev) the way the policy wants.

The engine judges the task branch first, as the server would judge a pull request: a run that
changed code outside its folder (task-scope) is refused before any branch moves.
"""

from __future__ import annotations

from typing import Optional

from policy.model import Violation
from policy.workflow.errors import NothingToDo, PolicyRefusal, WorkflowError
from policy.workflow.messages import check_message, merge_message
from policy.workflow.steps import Plan, git
from policy.workflow.verify import merge_verdict, paths_outside_tasks
from policy.workflow.workspace import Workspace


def task_branch(ws: Workspace, branch: Optional[str]) -> tuple[str, str]:
    """(name, tip) of the task branch to finish: BRANCH, else the checked-out one."""
    name = branch or ws.current_branch()
    if name is None:
        raise WorkflowError("HEAD is detached: name the task branch (policy task finish task-...)")
    if ws.policy.kind_of(name) != "task":
        raise WorkflowError(f"{name} is not a task branch (pattern {ws.policy.pattern('task')})")
    tip = ws.local(name)
    if tip is None:
        raise WorkflowError(f"there is no local branch {name} (git fetch, then git branch {name} origin/{name})")
    return name, tip


def require_only_tasks(ws: Workspace, name: str, target: str, target_sha: str, tree: str) -> None:
    """A task merge brings only the run's folder; if the target lacks commits the task branch
    started from (dev behind main), the merge would bring them too and break task-type."""
    outside = paths_outside_tasks(ws, target_sha, tree)
    if not outside:
        return
    main = ws.branch_of_kind("main") or "main"
    more = f" and {len(outside) - 3} more" if len(outside) > 3 else ""
    fix = (
        f"{target} lacks commits of {main}: merge {main} into {target} first "
        f"(git checkout {target} && policy merge {main}), then run this again"
        if target != main
        else f"a task merge changes only {ws.policy.tasks_dir}/"
    )
    raise WorkflowError(
        f"merging {name} into {target} would also change {', '.join(outside[:3])}{more}, outside "
        f"{ws.policy.tasks_dir}/ (task-type): {fix}"
    )


def finish_plan(ws: Workspace, branch: Optional[str], into_dev: bool, message: Optional[str]) -> Plan:
    policy = ws.policy
    name, tip = task_branch(ws, branch)
    ws.require_clean("finishing a task")
    targets = ([ws.require_branch_of_kind("dev")] if into_dev else []) + [ws.require_branch_of_kind("main")]
    pending = [t for t in targets if not ws.is_ancestor(tip, ws.local(t) or "")]
    found: list[Violation] = []
    for target in pending:
        text = message or merge_message(policy, name, "task", target)
        check_message(policy, text, target=target, is_merge=True, source=name, source_kind="task")
        found += [v for v in merge_verdict(ws, name, tip, target, ws.local(target) or "") if v not in found]
    if found:
        raise PolicyRefusal(f"{name} cannot be merged: nothing was changed", found)
    if not pending:
        raise NothingToDo(f"{name} is already merged into {' and '.join(targets)}: nothing to do")
    for target in pending:
        target_sha = ws.local(target) or ""
        tree, clean = ws.git.merge_tree(target_sha, tip)
        if not clean or tree is None:
            raise WorkflowError(f"{name} does not merge cleanly into {target}: merge it by hand and resolve")
        require_only_tasks(ws, name, target, target_sha, tree)

    plan = Plan(touches=[f"refs/heads/{t}" for t in pending])
    plan.push = [*plan.touches, f"refs/heads/{name}"]
    for target in pending:
        text = message or merge_message(policy, name, "task", target)
        plan.add(git("checkout", target), git("merge", "--no-ff", "-m", text, name))
    return plan
