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


# The hook script reads nothing with external tools (no `cat`: without it the lines of a push
# would be lost and the push accepted), and never falls back to another Python: a hook that ran
# whichever `python3` can `import policy` could be judged by an unrelated package of that name.
PREAMBLE = r"""P=
if [ -n "$GL_ID$GL_PROTOCOL" ]; then P='GL-HOOK-ERR: '; fi
say() { printf '%s%s\n' "$P" "branch-policy: $*" >&2; }
blocked() {  # the first directory on the way to $1 that this user cannot enter
    rest=${1#/} dir=
    while :; do
        case $rest in */*) dir=$dir/${rest%%/*} rest=${rest#*/} ;; *) return 1 ;; esac
        if [ -d "$dir" ] && [ ! -x "$dir" ]; then printf '%s' "$dir"; return 0; fi
    done
}
if [ ! -x "$PYTHON" ]; then
    it="$PYTHON (the Python this hook was installed with)"
    who=$(id -un 2>/dev/null || printf '%s' "${USER:-the hook's user}")
    dir=$(blocked "$PYTHON" || blocked "$REAL")
    if [ -n "$dir" ]; then
        say "$it cannot be run by user $who: directory $dir is not searchable by that user"
    elif [ -e "$PYTHON" ] || [ -L "$PYTHON" ]; then
        say "$it cannot be run by user $who (it resolves to $REAL: check that file's permissions)"
    else
        say "$it is gone"
    fi
"""


def hook_script(name: str, python: str, fail_closed: bool = False, git_dir: str = "") -> str:
    """A small sh script: run a kept legacy hook first, then `python -m policy hook <name>` with
    the Python that installed it; if that Python cannot run, say why (refusing, on a server)."""
    call = f'"$PYTHON" -m policy hook {name} "$@"'
    reinstall = f"policy install --server {shlex.quote(git_dir)}" if fail_closed else "policy install"
    fix = (
        f"fix: install branch-policy where user $who can run it (python3 -m venv /opt/branch-policy && "
        f"/opt/branch-policy/bin/pip install branch-policy), then re-run as the repository's owner: "
        f"/opt/branch-policy/bin/{reinstall}"
    )
    missing = (
        f'    say "{fix}"\n    say "push refused (fail closed)"\n    exit 1'
        if fail_closed
        else f'    say "fix: re-run {reinstall} with the Python that has branch-policy"\n'
        '    say "hook skipped (the server still judges every push)"\n    exit 0'
    )
    if name in STDIN_HOOKS:  # git's lines go to both the legacy hook and ours: read with the shell's own `read`
        body = f"""if [ -x "$0.legacy" ]; then
    input=
    while IFS= read -r line || [ -n "$line" ]; do input="$input$line
"; done
    printf '%s' "$input" | "$0.legacy" "$@" || exit $?
    printf '%s' "$input" | {call}
    exit $?
fi
exec {call}"""
    else:
        body = f"""if [ -x "$0.legacy" ]; then "$0.legacy" "$@" || exit $?; fi
exec {call}"""
    return f"""#!/bin/sh
{MARKER}
PYTHON={shlex.quote(python)}
REAL={shlex.quote(os.path.realpath(python))}
{PREAMBLE}{missing}
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
        note = write_hook(path, hook_script("pre-receive", python, fail_closed=True, git_dir=git_dir), force)
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
