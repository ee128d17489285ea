"""policy task / debug / merge / release: the development flow as commands.

A thin click layer: the logic is in policy.workflow. Every command prints its git steps on
stderr as they run (or only prints them, with --dry-run) and its result on stdout, so
`branch=$(policy task start lr-small)` works. Exit 0: done (or nothing to do); 1: the policy
refuses it (one line per violation, as `policy check` prints them); 2: a problem to fix first
(dirty work tree, bad slug, existing branch, conflicts, ...). Nothing is left half-done.
"""

from __future__ import annotations

import sys
from typing import Callable, Optional

import click

from policy import report
from policy.gitio import GitError
from policy.workflow.errors import PolicyRefusal, WorkflowError
from policy.workflow.execute import execute
from policy.workflow.steps import Plan
from policy.workflow.workspace import Workspace

DRY_RUN = click.option("--dry-run", is_flag=True, help="Print the git steps without running them.")


def _err(line: str) -> None:
    click.echo(line, err=True)


def _run(build: Callable[[Workspace], Plan], dry_run: bool) -> None:
    """Build the plan (all checks happen here), run it, print the result; errors -> exit code."""
    try:
        ws = Workspace()
        plan = build(ws)
        execute(ws, plan, _err, dry_run=dry_run)
    except PolicyRefusal as exc:
        _err(f"branch-policy: {exc.what}")
        _err(report.render(exc.violations, stream=sys.stderr, pending="not merged"))
        sys.exit(exc.code)
    except WorkflowError as exc:
        _err(f"branch-policy: {exc}")
        sys.exit(exc.code)
    except GitError as exc:
        _err(f"branch-policy: {exc}")
        sys.exit(2)
    if plan.result:
        click.echo(plan.result)


# --------------------------------------------------------------------------- task / debug


@click.group()
def task() -> None:
    """Task runs: one branch and one folder tasks/<branch>/ per run.

    \b
    policy task start SLUG      branch task-<VERSION>-<time>-SLUG from main, copy tasks/main/
    policy task finish [BRANCH] merge the run's results into main (--dev: and dev)
    """


@task.command("start")
@click.argument("slug")
@click.option("--from", "base", metavar="BRANCH", help="Start from this task branch instead of main.")
@click.option("--time", "time", metavar="YYYYMMDD-HHMMSS", help="The time in the name (default: now, local time).")
@DRY_RUN
def task_start(slug: str, base: Optional[str], time: Optional[str], dry_run: bool) -> None:
    """Create task-<VERSION>-<time>-SLUG from main (VERSION from tasks/main/config.yaml), copy
    tasks/main/ to tasks/<branch>/, commit the copy, and print the branch name on stdout."""
    from policy.workflow.runs import start_plan

    _run(lambda ws: start_plan(ws, "task", slug, base, time), dry_run)


@task.command("finish")
@click.argument("branch", required=False)
@click.option("--dev", "into_dev", is_flag=True, help="Also merge the results into dev.")
@click.option("-m", "--message", metavar="MSG", help="Merge message (type task; default: task: merge <branch> ...).")
@DRY_RUN
def task_finish(branch: Optional[str], into_dev: bool, message: Optional[str], dry_run: bool) -> None:
    """Merge task branch BRANCH (default: the current one) into main with --no-ff and a task:
    message, after the engine has judged it as the server would (task-scope, task-base, ...)."""
    from policy.workflow.finish import finish_plan

    _run(lambda ws: finish_plan(ws, branch, into_dev, message), dry_run)


@click.group()
def debug() -> None:
    """Debug runs: DEBUG: true on a small data set; never merged anywhere.

    \b
    policy debug start SLUG     branch debug-<VERSION>-<time>-SLUG from main or dev
    """


@debug.command("start")
@click.argument("slug")
@click.option("--from", "base", metavar="BRANCH", help="main or dev (default: the current branch).")
@click.option("--time", "time", metavar="YYYYMMDD-HHMMSS", help="The time in the name (default: now, local time).")
@DRY_RUN
def debug_start(slug: str, base: Optional[str], time: Optional[str], dry_run: bool) -> None:
    """Create debug-<VERSION>-<time>-SLUG from main or dev, copy tasks/main/ to tasks/<branch>/
    with DEBUG: true, commit, mark the branch never-to-merge, and print its name on stdout."""
    from policy.workflow.runs import start_plan

    _run(lambda ws: start_plan(ws, "debug", slug, base, time), dry_run)


# --------------------------------------------------------------------------- merge / release


@click.command()
@click.argument("source")
@click.option(
    "--squash/--no-ff",
    "squash",
    default=False,
    help="--squash: one commit with the squash record the server verifies; --no-ff (default): a merge commit.",
)
@click.option("-m", "--message", metavar="MSG", help="Commit message (default: <type>: merge SOURCE into TARGET).")
@DRY_RUN
def merge(source: str, squash: bool, message: Optional[str], dry_run: bool) -> None:
    """Merge branch SOURCE into the checked-out branch (main, dev, ...) if the policy allows that
    source, with a conventional message; --squash adds 'Squash-Merge: SOURCE <commit>'."""
    from policy.workflow.merging import merge_plan

    _run(lambda ws: merge_plan(ws, source, squash, message), dry_run)


@click.command()
@click.argument("part", type=click.Choice(["patch", "minor", "major"]), default="patch", required=False)
@click.option("--version", "explicit", metavar="X.Y.Z", help="Release this version instead of bumping PART.")
@click.option("--dev/--no-dev", "to_dev", default=True, show_default=True, help="Merge main back into dev.")
@DRY_RUN
def release(part: str, explicit: Optional[str], to_dev: bool, dry_run: bool) -> None:
    """Raise VERSION in tasks/main/config.yaml on main (only that line changes), commit it, tag
    vX.Y.Z (annotated), then merge main into dev. Prints the tag on stdout."""
    from policy.workflow.release import release_plan

    _run(lambda ws: release_plan(ws, part, explicit, to_dev), dry_run)
