"""Running a plan: print each step as it runs (or only print, with --dry-run), then ask the engine
about the push that follows; on any failure put the repository back and say what happened."""

from __future__ import annotations

from typing import Callable

from policy.gitio import GitError
from policy.workflow.errors import PolicyRefusal, WorkflowError
from policy.workflow.rollback import Snapshot, restore, take
from policy.workflow.steps import Plan, StepFailed
from policy.workflow.verify import push_command, push_updates, push_verdict
from policy.workflow.workspace import Workspace

Echo = Callable[[str], None]


def show(plan: Plan, echo: Echo) -> None:
    echo("dry run: nothing was changed; these steps would run:")
    for step in plan.steps:
        echo(f"  {step.show()}")


def execute(ws: Workspace, plan: Plan, echo: Echo, dry_run: bool = False) -> None:
    """Run `plan`. Raises WorkflowError / PolicyRefusal after restoring the repository."""
    if dry_run:
        show(plan, echo)
        return
    before = ws.state()
    snapshot = take(ws, plan.touches)
    try:
        for step in plan.steps:
            echo(f"+ {step.show()}")
            step.run(ws.top)
        updates = push_updates(ws, before, plan.push)
        found = push_verdict(ws, before, updates)
        if found:
            raise PolicyRefusal("the server would refuse the result, so it was undone", found)
    except StepFailed as exc:
        raise WorkflowError(f"{exc.shown} failed: {exc.output}; {_undo(ws, snapshot, plan, echo)}") from None
    except GitError as exc:
        raise WorkflowError(f"{exc}; {_undo(ws, snapshot, plan, echo)}") from None
    except PolicyRefusal as exc:
        exc.what = f"{exc.what}; {_undo(ws, snapshot, plan, echo)}"
        raise
    except BaseException:  # an interrupt or a bug: still leave the repository as it was
        _undo(ws, snapshot, plan, echo)
        raise
    push = push_command(ws, updates)
    if push:
        plan.notes.append(f"next: {push}")
    for note in plan.notes:
        echo(note)


def _undo(ws: Workspace, snapshot: Snapshot, plan: Plan, echo: Echo) -> str:
    echo("undoing what was done:")
    failed = restore(ws, snapshot, plan.created, echo)
    if not failed:
        return "the repository is back as it was"
    return "could not undo everything; run: " + " && ".join(failed)
