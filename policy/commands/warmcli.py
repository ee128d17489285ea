"""`policy warm start|stop|status BARE_GIT_DIR`: the warm judge of a bare repository (policy/warm.py).

The server hook starts it by itself on the first push; these are for an admin (start it before
the first push, stop it after an upgrade or before moving the repository) and for the tests."""

from __future__ import annotations

import os

import click

from policy.commands.install import WARM_IDLE, import_paths
from policy.warm import judge_pid, stop_judge
from policy.warmclient import start


@click.group()
def warm() -> None:
    """The warm judge of a bare repository: a process that judges its pushes without starting Python."""


def _bare(path: str) -> str:
    git_dir = os.path.abspath(path)
    if not os.path.isdir(os.path.join(git_dir, "objects")) or not os.path.isdir(os.path.join(git_dir, "refs")):
        raise click.ClickException(f"{path} is not a bare repository")
    return git_dir


@warm.command("start")
@click.argument("repository", metavar="BARE_GIT_DIR")
@click.option("--idle", type=float, default=WARM_IDLE, show_default=True, metavar="SECONDS",
              help="Exit after this long without a push.")  # fmt: skip
def start_command(repository: str, idle: float) -> None:
    """Start the judge (as the user who runs the hook: the repository's owner)."""
    git_dir = _bare(repository)
    running = judge_pid(git_dir)
    if running:
        click.echo(f"{git_dir}: the warm judge runs (pid {running})")
        return
    pid = start(git_dir, import_paths(), idle, wait=30)
    if not pid:
        raise click.ClickException(f"{git_dir}: the warm judge did not start (is {git_dir} this user's?)")
    click.echo(f"{git_dir}: the warm judge runs (pid {pid}, exits after {idle:g} s without a push)")


@warm.command("stop")
@click.argument("repository", metavar="BARE_GIT_DIR")
def stop_command(repository: str) -> None:
    """Stop the judge; the next push starts a new one (pushes being judged finish)."""
    git_dir = _bare(repository)
    pid = stop_judge(git_dir)
    click.echo(f"{git_dir}: the warm judge (pid {pid}) stopped" if pid else f"{git_dir}: no warm judge runs")


@warm.command("status")
@click.argument("repository", metavar="BARE_GIT_DIR")
def status_command(repository: str) -> None:
    """Say whether a judge runs (exit status 0) or not (3)."""
    git_dir = _bare(repository)
    pid = judge_pid(git_dir)
    click.echo(f"{git_dir}: the warm judge runs (pid {pid})" if pid else f"{git_dir}: no warm judge runs")
    if not pid:
        raise SystemExit(3)
