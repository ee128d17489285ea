"""`policy hook --help` and friends. Running a hook goes through policy.commands.hook.dispatch
without click (see policy.cli.main); these definitions give every hook its --help."""

from __future__ import annotations

import sys

import click

from policy.commands.hook import dispatch


def _run(*args: str) -> None:
    sys.exit(dispatch(list(args)))


@click.group()
def hook() -> None:
    """Git hook entry points. Git (or pre-commit) calls these; you rarely do."""


@hook.command("pre-commit")
@click.option(
    "--only", type=click.Choice(["branch", "task-config", "large-files"]), default=None,
    help="Judge one group of checks (what each pre-commit hook id runs): branch (branch name, direct "
    "commit on main, task scope, debug paths), task-config, large-files. Default: all.",
)  # fmt: skip
@click.option("--policy", "policy_file", metavar="FILE", default=None, help="Judge with this policy file.")
def pre_commit(only: str, policy_file: str) -> None:
    """Judge the staged change as the commit it will become: branch name, direct commit on main,
    task scope, debug paths, task configs and large files of the staged blobs."""
    _run("pre-commit", *(["--only", only] if only else []), *(["--policy", policy_file] if policy_file else []))


@hook.command("commit-msg")
@click.argument("file", type=click.Path())
def commit_msg(file: str) -> None:
    """Judge the commit message in FILE (commit-message, task-type); after `git merge --squash`,
    add the squash record (Squash-Merge: <branch> <commit>) that the server verifies. With
    `fix: true` in commit-message's settings, correct mechanical slips in FILE and say so."""
    _run("commit-msg", file)


@hook.command("pre-merge-commit")
def pre_merge_commit() -> None:
    """Judge the merge being made (MERGE_HEAD): merge-source and debug-leak."""
    _run("pre-merge-commit")


@hook.command("pre-push")
@click.argument("remote", required=False, default="")
@click.argument("url", required=False, default="")
def pre_push(remote: str, url: str) -> None:
    """The server's full verdict for every ref being pushed (git's lines on stdin)."""
    _run("pre-push", remote, url)


@hook.command("pre-receive")
def pre_receive() -> None:
    """The server hook: reads '<old> <new> <ref>' lines on stdin and refuses the whole push if
    any ref breaks the policy. Fails closed on errors unless the policy says on_error: allow."""
    _run("pre-receive")


@hook.command("update")
@click.argument("ref")
@click.argument("old")
@click.argument("new")
def update(ref: str, old: str, new: str) -> None:
    """The server's per-ref update hook (prefer pre-receive: it sees the whole push)."""
    _run("update", ref, old, new)
