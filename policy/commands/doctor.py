"""policy doctor: what a set-up needs, checked where it runs, and what to fix.

On a server (`--server BARE`): the hook present and executable, its interpreter runnable by the
repository's owner (the user git runs hooks as), the policy loads, git >= 2.38, receive.fsckObjects
on, a commit-graph. In a clone: git, the policy, and the client hooks installed natively
(`policy install`) or through the pre-commit framework. Exit 1 when something must be fixed."""

from __future__ import annotations

import os
import re
import shlex
from typing import NamedTuple, Optional

import click

from policy.gitio import Git, GitError

MIN_GIT = (2, 38)  # git merge-tree --write-tree (squash-merge) and cat-file --batch-command


class Finding(NamedTuple):
    level: str  # ok, warn (worth doing), fix (must be fixed)
    what: str
    fix: str = ""


def git_version(git: Git) -> Finding:
    try:
        text = git.run("version").decode().strip()
    except (GitError, OSError) as exc:
        return Finding("fix", f"git cannot be run: {exc}", "install git >= 2.38 (apt-get install git)")
    found = re.search(r"(\d+)\.(\d+)", text)
    version = (int(found.group(1)), int(found.group(2))) if found else (0, 0)
    if version < MIN_GIT:
        return Finding("fix", f"{text}: branch-policy needs git >= 2.38", "install a newer git (backports, or source)")
    return Finding("ok", text)


def policy_loads(git: Git, refs: list[str], explicit: Optional[str], worktree: Optional[str]) -> Finding:
    from policy.config import PolicyError
    from policy.loading import load

    try:
        load(git, refs, explicit=explicit, worktree=worktree)
    except (PolicyError, GitError) as exc:
        return Finding("fix", f"the policy does not load: {exc}", "fix the file it names (policy rules shows it)")
    return Finding("ok", f"the policy loads ({explicit or 'from ' + refs[0]})")


def hook_python(script: str) -> Optional[str]:
    """The interpreter a hook written by `policy install` runs (its PYTHON= line)."""
    for line in script.splitlines():
        if line.startswith("PYTHON="):
            words = shlex.split(line[len("PYTHON=") :])
            return words[0] if words else None
    return None


def server_findings(server: str) -> list[Finding]:
    from policy.commands.install import MARKER, SCRIPT, interpreter_problem, safe_git
    from policy.loading import server_policy_file, server_refs

    git = safe_git(server)
    try:
        if not git.is_bare():
            return [Finding("fix", f"{server} is not a bare repository", "give the path of the server's repository")]
        git_dir = git.git_dir()
    except (GitError, OSError) as exc:
        return [Finding("fix", f"{server} is not a git repository: {exc}", "give the path of a bare repository")]
    found = [git_version(git)]
    owner = os.stat(git_dir)
    hook = os.path.join(git_dir, "hooks", "pre-receive")
    install = f"policy install --server {server}"
    if not os.path.exists(hook):
        found.append(Finding("fix", f"{hook} is missing: pushes are not judged", install))
    else:
        with open(hook, encoding="utf-8", errors="replace") as handle:
            script = handle.read()
        if not os.access(hook, os.X_OK):
            found.append(Finding("fix", f"{hook} is not executable: git skips it", f"chmod +x {hook}"))
        elif MARKER not in script and "policy hook pre-receive" not in script:
            found.append(Finding("fix", f"{hook} is not branch-policy's", f"{install} --force (keeps it as .legacy)"))
        else:
            found.append(Finding("ok", f"{hook} is present and executable"))
        if not script.startswith("#!"):  # the native client as the hook: it hands pushes to its script
            beside = os.path.join(git_dir, "hooks", SCRIPT)
            if not os.access(beside, os.X_OK):
                found.append(Finding("fix", f"{beside} is missing or not executable: every push the warm judge "
                                     "does not take is refused", install))  # fmt: skip
            script = _text(beside)
        python = hook_python(script)
        if python:
            problem = interpreter_problem(python, owner.st_uid, owner.st_gid)
            if problem:
                found.append(
                    Finding("fix", problem, f"install branch-policy where that user can run it, then {install}")
                )
            elif owner.st_uid != os.geteuid() and os.geteuid() != 0:
                found.append(Finding("warn", f"cannot tell whether the repository's owner can run {python}",
                                     "run policy doctor as root or as that user"))  # fmt: skip
            else:
                found.append(Finding("ok", f"{python} runs branch-policy as the repository's owner"))
    found.append(policy_loads(git, server_refs(git), server_policy_file(git), None))
    fsck = (git.try_run("config", "--bool", "--get", "receive.fsckObjects") or b"").strip()
    if fsck != b"true":
        found.append(Finding("fix", "receive.fsckObjects is off: malformed objects are accepted and judged",
                             f"git -C {server} config receive.fsckObjects true"))  # fmt: skip
    else:
        found.append(Finding("ok", "receive.fsckObjects is on"))
    info = os.path.join(git_dir, "objects", "info")
    graph = os.path.exists(os.path.join(info, "commit-graph")) or os.path.isdir(os.path.join(info, "commit-graphs"))
    if graph:
        found.append(Finding("ok", "the repository has a commit-graph"))
    else:
        found.append(Finding("warn", "no commit-graph: long ranges cost more",
                             f"git -C {server} commit-graph write --reachable && "
                             f"git -C {server} config gc.writeCommitGraph true"))  # fmt: skip
    return found


def client_findings() -> list[Finding]:
    from policy.commands.install import CLIENT_HOOKS, MARKER, hooks_dir
    from policy.loading import client_refs
    from policy.verdict import default_remote

    git = Git()
    found = [git_version(git)]
    try:
        directory = hooks_dir(git)
        top = git.run("rev-parse", "--show-toplevel").decode().strip()
    except (GitError, OSError) as exc:
        return [*found, Finding("fix", f"not in a git work tree: {exc}", "cd into the repository")]
    found.append(policy_loads(git, client_refs(default_remote(git)), None, top))
    native, framework, missing = [], [], []
    config = os.path.join(top, ".pre-commit-config.yaml")
    declared = "policy-" in _text(config)
    for name in CLIENT_HOOKS:
        path = os.path.join(directory, name)
        text = _text(path)
        if MARKER in text and os.access(path, os.X_OK):
            native.append(name)
        elif declared and "pre-commit" in text and os.access(path, os.X_OK):
            framework.append(name)
        else:
            missing.append(name)
    if native:
        found.append(Finding("ok", f"installed by policy install: {', '.join(native)}"))
    if framework:
        found.append(Finding("ok", f"installed through pre-commit: {', '.join(framework)}"))
    if missing:
        fix = (
            "pre-commit install --install-hooks (default_install_hook_types in .pre-commit-config.yaml lists them)"
            if declared
            else "policy install (or the pre-commit framework: see the README)"
        )
        found.append(Finding("fix", f"hooks not installed in {directory}: {', '.join(missing)}", fix))
    return found


def _text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


@click.command()
@click.option("--server", "server", metavar="BARE_GIT_DIR", help="Check a server's bare repository.")
def doctor(server: Optional[str]) -> None:
    """Check the set-up (a server's bare repository with --server, else this clone) and print
    what to fix. Exit 1 when something must be fixed."""
    found = server_findings(server) if server else client_findings()
    for finding in found:
        line = f"{finding.level:<5}{finding.what}"
        click.echo(line + (f"\n     fix: {finding.fix}" if finding.fix and finding.level != "ok" else ""))
    must = sum(1 for f in found if f.level == "fix")
    click.echo(f"{must} thing{'s' if must != 1 else ''} to fix" if must else "nothing to fix")
    raise SystemExit(1 if must else 0)
