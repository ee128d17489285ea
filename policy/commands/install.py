"""policy install: client hooks into .git/hooks (or core.hooksPath), or the server hook into a
bare repository. A hook that is not ours is never overwritten silently: without --force we stop
and say so; with --force it is kept as <hook>.legacy and still runs first."""

from __future__ import annotations

import contextlib
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


# The server hook's Python starts without `site` (-S): site's work (.pth files, the finder of an
# editable install) is a third of a bare start, on every push. The directories site would add are
# written into the hook instead; when policy cannot be imported from them (a reinstall moved it, a
# dependency needs a .pth file), the same Python starts again the ordinary way (`-m policy`).
# The dependencies the server path imports later, lazily (PyYAML, google-re2), are looked up first.
FAST_START = """import sys
sys.path[0:0] = {paths!r}
try:
    from importlib.machinery import PathFinder
    for name in ("yaml", "re2"):
        if PathFinder.find_spec(name) is None:
            raise ImportError(name)
    from policy.commands.hook import main
except ImportError:
    import os
    os.execv(sys.executable, [sys.executable, "-m", "policy", "hook", *sys.argv[1:]])
raise SystemExit(main())"""


# The warm path (policy/warm.py): where a C compiler is found, `policy install --server` makes
# the native client (policy/warmclient.c) the pre-receive hook itself, and writes the hook script
# next to it as SCRIPT, with the installation's key on its KEY_LINE; the binary hands each push to
# the repository's warm judge, and every push the judge does not take to SCRIPT, by exec. The
# script tries a Python client that starts without site and imports only built-in modules, and
# starts a judge when none runs. Each client exits with COLD (75) when the push is to be judged
# the ordinary way; git's lines are unread then. 126 and 127 (cannot be run) are no verdict either.
WARM_CLIENT = """import sys
sys.path[:0] = {paths!r}
try:
    from policy.warmclient import main
except Exception:
    raise SystemExit(75)
raise SystemExit(main(sys.argv[1:], {paths!r}, {idle!r}, {python!r}))"""
WARM_IDLE = 900.0  # seconds a warm judge waits for the next push before it exits
SCRIPT = "branch-policy-pre-receive"  # the hook script, when the native client is hooks/pre-receive
KEY_LINE = "# warm judge key (hex): "  # in SCRIPT: the installation the native client sends the judge
OLD_CLIENT = "branch-policy-warm-client"  # where installs before the native hook put the client


def import_paths() -> list[str]:
    """Where this Python finds policy and its dependencies, beyond the standard library."""
    import site

    import policy

    found = [os.path.dirname(os.path.dirname(os.path.abspath(policy.__file__))), *site.getsitepackages()]
    if site.ENABLE_USER_SITE:
        found.append(site.getusersitepackages())
    return [p for p in dict.fromkeys(found) if os.path.isdir(p)]


def install_source() -> str:
    """What pip installs to get this branch-policy again, shell-quoted: its source checkout, or
    the directory or URL pip installed it from (PEP 610's direct_url.json); else the package's
    name, as the lab's package index holds it."""
    import json
    from importlib import metadata
    from urllib.parse import unquote, urlparse

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    checkout = os.path.dirname(root)
    if os.path.isfile(os.path.join(checkout, "setup.cfg")) and os.path.isdir(os.path.join(checkout, "hooks")):
        return shlex.quote(checkout)
    for dist in metadata.distributions(name="branch-policy"):
        raw = dist.read_text("direct_url.json")
        if not raw:
            continue
        with contextlib.suppress(ValueError, KeyError, TypeError):
            found = json.loads(raw)
            url, vcs = found["url"], found.get("vcs_info")
            if vcs:
                return shlex.quote(f"{vcs['vcs']}+{url}@{vcs['commit_id']}")
            return shlex.quote(unquote(urlparse(url).path) if url.startswith("file:") else url)
    return "branch-policy"


def hook_script(
    name: str, python: str, fail_closed: bool = False, git_dir: str = "", warm_idle: float = 0, native: bool = False
) -> str:
    """A small sh script: run a kept legacy hook first, then `python -m policy hook <name>` with
    the Python that installed it; if that Python cannot run, say why (refusing, on a server).
    On a server (`fail_closed`) the Python starts without site (FAST_START); the pre-receive hook
    tries the warm judge first when `warm_idle` > 0 (WARM_CLIENT), and runs FAST_START when it
    answers COLD. With `native`, the script is SCRIPT, run by the native hook (which has tried the
    judge already); where a legacy hook runs first, it calls that binary as its client first."""
    call = f'"$PYTHON" -m policy hook {name} "$@"'
    if fail_closed:
        call = f'"$PYTHON" -S -c {shlex.quote(FAST_START.format(paths=import_paths()))} {name} "$@"'
    warm = ours = ""
    if fail_closed and name == "pre-receive" and warm_idle > 0:
        paths = import_paths()
        client = WARM_CLIENT.format(paths=paths, idle=float(warm_idle), python=python)
        steps = [f'"$PYTHON" -S -I -c {shlex.quote(client)} {name} "$@"', "rc=$?"]
        exit_unless_cold = '[ "$rc" -eq 75 ] || exit "$rc"'  # 75: judge it cold
        lines = "".join(f"    {step}\n" for step in [*steps, exit_unless_cold])
        warm = f'if [ "$BRANCH_POLICY_WARM" != off ]; then\n{lines}fi\n'
        if native:  # the binary is the hook: after a legacy hook, this script hands it git's lines
            key = " ".join(shlex.quote(p) for p in paths)
            steps = [
                f'C=${{0%/*}}/{name}; "$C" "$PYTHON" {key} -- {name} "$@"; rc=$?',
                f"case $rc in 75|126|127) {'; '.join(steps)} ;; esac",
            ]
        ours = f'{{ if [ "$BRANCH_POLICY_WARM" != off ]; then {"; ".join([*steps, exit_unless_cold])}; fi; {call}; }}'
    reinstall = f"policy install --server {shlex.quote(git_dir)}" if fail_closed else "policy install"
    fix = (
        f"fix: install branch-policy where user $who can run it (python3 -m venv /opt/branch-policy && "
        f"/opt/branch-policy/bin/pip install {install_source()}), then re-run as the repository's owner: "
        f"/opt/branch-policy/bin/{reinstall}"
    )
    missing = (
        f'    say "{fix}"\n    say "push refused (fail closed)"\n    exit 1'
        if fail_closed
        else f'    say "fix: re-run {reinstall} with the Python that has branch-policy"\n'
        '    say "hook skipped (the server still judges every push)"\n    exit 0'
    )
    legacy = f"${{0%/*}}/{name}.legacy" if native else "$0.legacy"  # SCRIPT runs the hook's legacy one
    if name in STDIN_HOOKS:  # git's lines go to both the legacy hook and ours: read with the shell's own `read`
        ours = ours or call
        body = f"""if [ -x "{legacy}" ]; then
    input=
    while IFS= read -r line || [ -n "$line" ]; do input="$input$line
"; done
    printf '%s' "$input" | "{legacy}" "$@" || exit $?
    printf '%s' "$input" | {ours}
    exit $?
fi
{warm}exec {call}"""
    else:
        body = f"""if [ -x "$0.legacy" ]; then "$0.legacy" "$@" || exit $?; fi
exec {call}"""
    key_line = ""
    if native:
        from policy.warmclient import key as installation

        key_line = KEY_LINE + installation(python, import_paths()).encode("utf-8", "surrogateescape").hex() + "\n"
    return f"""#!/bin/sh
{MARKER}
{key_line}PYTHON={shlex.quote(python)}
REAL={shlex.quote(os.path.realpath(python))}
{PREAMBLE}{missing}
fi
{body}
"""


def build_client(target: str) -> Optional[str]:
    """Compile the warm judge's native client (policy/warmclient.c) with $CC (else cc) into
    `target`; None when done, else why not, in a few words (the hook is then the script, with the
    Python client). The binary is kept in the package's __pycache__ too, for the next install."""
    import hashlib
    import shutil
    import subprocess

    source = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "warmclient.c")
    tmp = f"{target}.tmp{os.getpid()}"
    compiler = shlex.split(os.environ.get("CC") or "cc")
    command = [*compiler, "-O2", "-o", tmp, source]
    try:
        with open(source, "rb") as handle:
            text = handle.read()
    except OSError:
        return "its C source is not installed"
    digest = hashlib.sha256(b"\0".join([text, *map(os.fsencode, command[:-3]), os.uname().machine.encode()]))
    cache = os.path.join(os.path.dirname(source), "__pycache__", f"warmclient.{digest.hexdigest()[:16]}")
    try:
        if os.path.isfile(cache):
            shutil.copyfile(cache, tmp)
        else:
            try:
                done = subprocess.run(command, capture_output=True, text=True, timeout=120)
            except (OSError, subprocess.TimeoutExpired) as exc:
                return f"no C compiler ({compiler[0] if compiler else 'cc'}: {getattr(exc, 'strerror', None) or exc})"
            if done.returncode != 0 or not os.path.isfile(tmp):
                why = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
                return f"{' '.join(compiler)} failed: {why}"
        os.chmod(tmp, 0o755)
        probe = subprocess.run([tmp, "--"], env={"BRANCH_POLICY_WARM": "off"}, capture_output=True, timeout=30)
        if probe.returncode != 75:  # the binary runs here and says "judge it cold" when asked to
            return f"the client {' '.join(compiler)} built does not run here (exit status {probe.returncode})"
        with contextlib.suppress(OSError):
            if not os.path.isfile(cache):
                os.makedirs(os.path.dirname(cache), exist_ok=True)
                shutil.copyfile(tmp, f"{cache}.{os.getpid()}")
                os.chmod(f"{cache}.{os.getpid()}", 0o755)
                os.replace(f"{cache}.{os.getpid()}", cache)
        os.replace(tmp, target)
        return None
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"it could not be built ({exc})"
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def safe_git(path: str) -> Git:
    """Git for a repository that may belong to another user (root installing into the git user's
    repository): trusted for these commands only, as `safe.directory` allows from the command line."""
    env = dict(os.environ)
    count = int(env.get("GIT_CONFIG_COUNT", "0") or 0)
    env.update({"GIT_CONFIG_COUNT": str(count + 1), f"GIT_CONFIG_KEY_{count}": "safe.directory",
                f"GIT_CONFIG_VALUE_{count}": os.path.abspath(path)})  # fmt: skip
    return Git(cwd=path, env=env)


def interpreter_problem(python: str, uid: int, gid: int) -> Optional[str]:
    """Why user `uid` cannot run `python -m policy` (None if it can). Only root can ask this of
    another user; for oneself it is always asked."""
    import pwd
    import subprocess

    if uid != os.geteuid() and os.geteuid() != 0:
        return None
    probe = [python, "-c", "import policy.commands.hook"]
    switch = {} if uid == os.geteuid() else {"user": uid, "group": gid, "extra_groups": []}
    try:
        done = subprocess.run(probe, capture_output=True, text=True, cwd="/", **switch)  # type: ignore[call-overload]
    except OSError as exc:
        problem = exc.strerror or str(exc)
    else:
        if done.returncode == 0:
            return None
        problem = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
    try:
        who = pwd.getpwuid(uid).pw_name
    except KeyError:
        who = f"uid {uid}"
    blocked = next(
        (d for d in _parents(python) + _parents(os.path.realpath(python)) if not _enterable(d, uid, gid)), None
    )
    where = f": directory {blocked} is not searchable by {who}" if blocked else ""
    return f"{python} cannot run branch-policy as user {who} ({problem}){where}"


def _parents(path: str) -> list[str]:
    parts = os.path.dirname(os.path.abspath(path)).split(os.sep)
    return [os.sep.join(parts[:i]) or os.sep for i in range(2, len(parts) + 1)]


def _enterable(directory: str, uid: int, gid: int) -> bool:
    try:
        st = os.stat(directory)
    except OSError:
        return True  # not there at all: the probe's own error says so
    if uid == 0:
        return True
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid == gid:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def write_hook(path: str, script: str, force: bool, native: Optional[str] = None) -> str:
    """Write one hook; returns what happened, in words. Raises click.ClickException if a foreign
    hook is in the way and force is off. With `native` (the built client), `script` goes next to
    the hook as SCRIPT, and that binary becomes the hook."""
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
    target = os.path.join(os.path.dirname(path), SCRIPT) if native else path
    tmp = target + ".tmp"
    with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as handle:  # a path of other bytes, as is
        handle.write(script)
    os.chmod(tmp, os.stat(tmp).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    os.replace(tmp, target)
    if native:  # the script first: the binary hands it every push the warm judge does not take
        os.replace(native, path)
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
@click.option(
    "--warm-idle",
    type=float,
    default=WARM_IDLE,
    show_default=True,
    metavar="SECONDS",
    help="Server: the warm judge (started by the first push) exits after this long without a push; "
    "0: no warm judge, every push starts its own process.",
)
def install(server: Optional[str], policy_file: Optional[str], force: bool, warm_idle: float) -> None:
    """Write the client hooks (pre-commit, commit-msg, pre-merge-commit, pre-push) into this
    repository's hooks directory, for those who do not use the pre-commit framework; or, with
    --server, the pre-receive hook into a bare repository on the git server."""
    python = sys.executable
    if server:
        # Root installing into a repository the git user owns: git would stop on "dubious
        # ownership". Trust it for these commands, give the files back to the owner, and make
        # sure the owner (who runs the hook) can run this Python.
        git = safe_git(server)
        try:
            if not git.is_bare():
                raise click.ClickException(f"{server} is not a bare repository (the server side of a remote)")
            git_dir = git.git_dir()
        except GitError as exc:
            raise click.ClickException(f"{server} is not a git repository: {exc}") from None
        owner = os.stat(git_dir)
        problem = interpreter_problem(python, owner.st_uid, owner.st_gid)
        if problem:
            raise click.ClickException(
                f"{problem}; the hook would refuse every push. Install branch-policy where that user can run it "
                "(python3 -m venv /opt/branch-policy && "
                f"/opt/branch-policy/bin/pip install {install_source()}) and run "
                f"/opt/branch-policy/bin/policy install --server {server}"
            )
        if policy_file:  # read by the hook through policy.loading.server_policy_file
            git.run("config", "branchpolicy.file", os.path.abspath(policy_file))
        # git itself refuses malformed objects (trees with '..' or '.git' entries, ...) before the hook runs
        git.run("config", "receive.fsckObjects", "true")
        # and git's own processes (receive-pack, gc) ignore replace refs, as every process of the hook does
        git.run("config", "core.useReplaceRefs", "false")
        hooks = os.path.join(git_dir, "hooks")
        path, script_path, native = (os.path.join(hooks, name) for name in ("pre-receive", SCRIPT, f".{SCRIPT}.bin"))
        os.makedirs(hooks, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):  # the client of an older install, beside its hook
            os.unlink(os.path.join(hooks, OLD_CLIENT))
        unbuilt = build_client(native) if warm_idle > 0 else "--warm-idle 0"
        script = hook_script("pre-receive", python, True, git_dir, warm_idle, native=unbuilt is None)
        try:
            note = write_hook(path, script, force, native if unbuilt is None else None)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(native)
        if unbuilt is not None:  # the script is the hook: a script of the native hook is not needed
            with contextlib.suppress(FileNotFoundError):
                os.unlink(script_path)
        if warm_idle > 0:
            client = f"native (the hook; its script: {SCRIPT})" if unbuilt is None else f"Python ({unbuilt})"
            note += f"; warm client: {client}"
        if os.geteuid() == 0 and owner.st_uid != 0:
            for written in (path, path + ".legacy", os.path.join(git_dir, "config"), script_path):
                if os.path.exists(written):
                    os.chown(written, owner.st_uid, owner.st_gid)
            note += f" (owned by uid {owner.st_uid}, the repository's owner)"
        # a judge started by the hook as it was (another interpreter, another idle time) steps aside
        from policy.warm import stop_judge

        if stop_judge(git_dir):
            note += "; the running warm judge was stopped (the next push starts one, if the hook uses it)"
        click.echo(f"{path}: {note}")
        return
    try:
        directory = hooks_dir(Git())
    except GitError as exc:
        raise click.ClickException(f"not in a git repository: {exc}") from None
    os.makedirs(directory, exist_ok=True)
    declared = _declares_policy_hooks()
    for name in CLIENT_HOOKS:
        path = os.path.join(directory, name)
        framework = _is_pre_commit_hook(path)
        if framework and declared and not force:
            click.echo(
                f"{path}: pre-commit's hook, which already runs branch-policy (.pre-commit-config.yaml): left as is"
            )
            continue
        if framework and not force:
            raise click.ClickException(
                f"{path} is pre-commit's hook. Add branch-policy's hook ids to .pre-commit-config.yaml (README: On "
                "the laptop) and run pre-commit install, or re-run with --force to run both (pre-commit's first)"
            )
        note = write_hook(path, hook_script(name, python), force)
        if framework:
            note = f"installed; pre-commit's hook is kept as {name}.legacy and runs first"
        click.echo(f"{path}: {note}")


PRE_COMMIT_MARKER = "File generated by pre-commit"


def _is_pre_commit_hook(path: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return PRE_COMMIT_MARKER in handle.read(4096)
    except OSError:
        return False


def _declares_policy_hooks() -> bool:
    """The work tree's .pre-commit-config.yaml names branch-policy's hook ids (policy-...)."""
    top = Git().try_run("rev-parse", "--show-toplevel")
    path = os.path.join(top.decode().strip(), ".pre-commit-config.yaml") if top else ""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return "id: policy-" in handle.read()
    except OSError:
        return False
