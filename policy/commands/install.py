"""policy install: client hooks into .git/hooks (or core.hooksPath), or the server hook into a
bare repository. A hook that is not ours is never overwritten silently: without --force we stop
and say so; with --force it is kept as <hook>.legacy and still runs first."""

from __future__ import annotations

import os
import shlex
import stat
import sys
from typing import Optional

import click

from policy.gitio import Git, GitError

MARKER = "# installed by branch-policy (policy install)"
CLIENT_HOOKS = ("pre-commit", "commit-msg", "pre-merge-commit", "pre-push")
STDIN_HOOKS = ("pre-push", "pre-receive")


def hook_script(name: str, python: str, fail_closed: bool = False) -> str:
    """A small sh script: run a kept legacy hook first, then `python -m policy hook <name>`."""
    call = f'"$PYTHON" -m policy hook {name} "$@"'
    missing = (
        'echo "branch-policy: the policy command is missing on this server; push refused (fail closed)" >&2; exit 1'
        if fail_closed
        else 'echo "branch-policy: policy is not installed (pip install branch-policy); hook skipped" >&2; exit 0'
    )
    if name in STDIN_HOOKS:  # git's lines on stdin go to both the legacy hook and ours
        body = f"""input=$(cat)
if [ -x "$0.legacy" ]; then printf '%s\\n' "$input" | "$0.legacy" "$@" || exit $?; fi
printf '%s\\n' "$input" | {call}"""
    else:
        body = f"""if [ -x "$0.legacy" ]; then "$0.legacy" "$@" || exit $?; fi
{call}"""
    return f"""#!/bin/sh
{MARKER}
PYTHON={shlex.quote(python)}
if [ ! -x "$PYTHON" ]; then
    PYTHON=$(command -v python3 || true)
    "$PYTHON" -c 'import policy' 2>/dev/null || {{ {missing}; }}
fi
{body}
"""


def write_hook(path: str, script: str, force: bool) -> str:
    """Write one hook; returns what happened, in words. Raises click.ClickException if a foreign
    hook is in the way and force is off."""
    note = "installed"
    if os.path.exists(path):
        with open(path, encoding="utf-8", errors="replace") as handle:
            current = handle.read()
        if MARKER not in current:
            if not force:
                raise click.ClickException(
                    f"{path} exists and is not branch-policy's; not touching it. Re-run with --force to keep "
                    f"it as {os.path.basename(path)}.legacy (it will still run first), or merge it by hand."
                )
            os.replace(path, path + ".legacy")
            note = f"installed; the previous hook is kept as {os.path.basename(path)}.legacy and runs first"
        else:
            note = "updated"
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(script)
    os.chmod(tmp, os.stat(tmp).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    os.replace(tmp, path)
    return note


def hooks_dir(git: Git) -> str:
    """Where git looks for hooks: core.hooksPath if set (relative to the work tree), else
    <git-common-dir>/hooks."""
    configured = git.try_run("config", "--get", "core.hooksPath")
    if configured and configured.strip():
        path = os.path.expanduser(configured.decode().strip())
        if not os.path.isabs(path):
            top = git.try_run("rev-parse", "--show-toplevel")
            path = os.path.join(top.decode().strip() if top else os.getcwd(), path)
        return path
    common = git.run("rev-parse", "--git-common-dir").decode().strip()
    return os.path.join(os.path.abspath(common), "hooks")


@click.command()
@click.option(
    "--server", "server", metavar="BARE_GIT_DIR", help="Install the pre-receive hook into this bare repository."
)
@click.option("--policy", "policy_file", metavar="FILE", help="Server: judge with this file instead of main's.")
@click.option("--force", is_flag=True, help="Replace a hook that is not ours (it is kept as <hook>.legacy).")
def install(server: Optional[str], policy_file: Optional[str], force: bool) -> None:
    """Write the client hooks (pre-commit, commit-msg, pre-merge-commit, pre-push) into this
    repository's hooks directory, for those who do not use the pre-commit framework; or, with
    --server, the pre-receive hook into a bare repository on the git server."""
    python = sys.executable
    if server:
        git = Git(cwd=server)
        try:
            if not git.is_bare():
                raise click.ClickException(f"{server} is not a bare repository (the server side of a remote)")
            git_dir = git.git_dir()
        except GitError as exc:
            raise click.ClickException(f"{server} is not a git repository: {exc}") from None
        if policy_file:  # read by the hook through policy.loading.server_policy_file
            git.run("config", "branchpolicy.file", os.path.abspath(policy_file))
        path = os.path.join(git_dir, "hooks", "pre-receive")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        note = write_hook(path, hook_script("pre-receive", python, fail_closed=True), force)
        click.echo(f"{path}: {note}")
        return
    try:
        directory = hooks_dir(Git())
    except GitError as exc:
        raise click.ClickException(f"not in a git repository: {exc}") from None
    os.makedirs(directory, exist_ok=True)
    for name in CLIENT_HOOKS:
        note = write_hook(os.path.join(directory, name), hook_script(name, python), force)
        click.echo(f"{os.path.join(directory, name)}: {note}")
