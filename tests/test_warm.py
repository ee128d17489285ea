"""The warm judge (policy/warm.py): the same verdicts and text as the cold path, and a correct
verdict whatever state the judge is in: absent, stale, killed mid-push, busy, behind git daemon."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import Repo, World, config, hook_script, hows, policy_cmd, refused, run, seed, warm_judges

import policy.warmclient

JUDGED_COLD = "branch-policy-test: judged cold"


@pytest.fixture(autouse=True)
def warm_on(warm_judge_on: None) -> None:
    """These tests use the warm judge whatever POLICY_TEST_HOOK says."""


def judge_pid(server: Path) -> int | None:
    result = run(policy_cmd("warm", "status", str(server)), server)
    return int(result.out.rsplit("pid ", 1)[1].rstrip(")\n")) if result.ok else None


def start_judge(server: Path) -> int:
    result = run(policy_cmd("warm", "start", str(server)), server)
    assert result.ok, result.out
    pid = judge_pid(server)
    assert pid, result.out
    return pid


def wait_for(what: object, timeout: float = 15.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what() if callable(what) else what
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[-1].split()[:1] == [b"Z"]
    except OSError:
        return True


def warm_only(server: Path) -> None:
    """Make the hook's cold path say so and refuse: a push it accepts was judged warm."""
    hook = hook_script(server)
    text = hook.read_text()
    cut = text.rindex('\nexec "$PYTHON" -S -c ')
    hook.write_text(text[:cut] + f'\necho "{JUDGED_COLD}" >&2\nexit 9\n')


def hook(server: Path, stdin: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The installed pre-receive hook run by hand, as receive-pack runs it."""
    return subprocess.run(
        [str(server / "hooks" / "pre-receive")], cwd=server, input=stdin, capture_output=True, text=True,
        env={**os.environ, "GIT_DIR": ".", **env}, timeout=120,
    )  # fmt: skip


def test_warm_and_cold_give_the_same_verdicts_and_text(tmp_path: Path) -> None:
    world = World(tmp_path)  # origin: judged warm only
    warm_only(world.server)
    start_judge(world.server)
    cold = tmp_path / "cold.git"
    run(["git", "init", "-q", "--bare", str(cold)], tmp_path)
    assert run(policy_cmd("install", "--server", str(cold)), tmp_path).ok
    repo = world.work
    repo.git("remote", "add", "cold", str(cold))

    def both(*refspecs: str) -> list[str]:
        outs = []
        for remote, env in (("origin", {}), ("cold", {"BRANCH_POLICY_WARM": "off"})):
            result = run(["git", "push", "--porcelain", remote, *refspecs], repo.path, env=env)
            text = result.out.replace(str(world.server), "<server>").replace(str(cold), "<server>")
            outs.append(f"rc={result.code}\n{text}")
        assert JUDGED_COLD not in outs[0]
        assert outs[0] == outs[1]
        return outs

    repo.commit("feat: initial", {"tasks/main/config.yaml": config(), "src/model.py": "x = 1\n"})
    assert "rc=0" in both("main")[0]
    assert hows(tmp_path) == ["warm: 0 (native)"]  # the native client judged it; nothing logged cold
    repo.branch("dev")
    assert "rc=0" in both("dev")[0]
    repo.checkout("main")
    repo.commit("fix: straight on main", {"src/model.py": "x = 2\n"})
    repo.commit("no type at all", {"src/model.py": "x = 3\n"})
    hows(tmp_path)
    refusal = both("main")[0]
    assert "rc=1" in refusal and "main-direct-commit" in refusal and "push refused" in refusal
    assert hows(tmp_path) == ["warm: 1 (native)"]
    repo.git("reset", "-q", "--hard", "origin/main")
    repo.branch("feature-ok", "dev")
    repo.commit("feat: a feature", {"src/feature.py": "y = 1\n"})
    assert "rc=0" in both("feature-ok")[0]
    # the policy is read anew for each push (nothing is kept from one push to the next)
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text("rules:\n  commit-message: false\n")
    for server in (world.server, cold):
        run(["git", "config", "branchpolicy.file", str(policy_file)], server)
    repo.branch("feature-sloppy", "dev")
    repo.commit("sloppy message", {"src/sloppy.py": "z = 1\n"})
    assert "rc=0" in both("feature-sloppy")[0]
    policy_file.write_text("rules:\n  commit-message: true\n")
    repo.commit("sloppier message", {"src/sloppy.py": "z = 2\n"})
    assert "commit-message" in both("feature-sloppy")[0]


def test_absent_judge_is_started_and_the_push_judged_cold(tmp_path: Path) -> None:
    world = World(tmp_path)
    hook = world.server / "hooks" / "pre-receive"  # the native client itself
    assert hook.read_bytes()[:4] == b"\x7fELF" and hook.stat().st_mode & 0o777 == 0o755
    repo = seed(world)  # the first push found no judge: judged cold, and the Python client started one
    assert hows(tmp_path)[:2] == ["cold (native): no judge", "cold: no judge (one starts)"]
    pid = wait_for(lambda: judge_pid(world.server))
    directory = Path(policy.warmclient.judge_directory(str(world.server)))
    sock = directory / policy.warmclient.SOCKET
    modes = [path.lstat().st_mode & 0o777 for path in (directory.parent, directory, sock)]
    assert modes == [0o700, 0o700, 0o600]
    assert sorted(p.name for p in directory.iterdir()) == sorted([sock.name, "lock", "pid"])  # its warm-up's gone
    assert not list(world.server.glob("**/*.sock"))  # nothing of the judge's in the repository
    repo.commit("fix: straight on dev", {"a.py": "a = 1\n"})
    repo.commit("no type", {"a.py": "a = 2\n"})
    hows(tmp_path)
    assert refused(repo.push("dev"), "commit-message")
    assert judge_pid(world.server) == pid  # judged warm, by the same judge
    assert hows(tmp_path) == ["warm: 1 (native)"]
    # killed: its socket file stays behind; the push is judged cold and a new judge starts
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: gone(pid))
    assert sock.exists()
    assert refused(repo.push("dev"), "commit-message")
    assert hows(tmp_path) == ["cold (native): no judge", "cold: no judge (one starts)"]
    assert wait_for(lambda: judge_pid(world.server)) != pid
    repo.git("reset", "-q", "--hard", "HEAD~2")
    repo.commit("feat: fine", {"b.py": "b = 1\n"})
    assert repo.push("dev").ok
    # the repository removed: its judge exits too
    pid = judge_pid(world.server)
    shutil.rmtree(world.server)
    wait_for(lambda: gone(pid))
    assert not directory.exists()


def installed_copy(tmp_path: Path) -> list[str]:
    """A copy of the package of its own (an installation that this test alone upgrades): the
    command that runs its `policy`."""
    root = Path(policy.warmclient.__file__).parent
    copy = tmp_path / "site" / "policy"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("*.pyc"))  # keeps the compiled client
    code = f"import sys; sys.path[:0] = [{str(copy.parent)!r}]; from policy.cli import entry; entry()"
    return [sys.executable, "-c", code]


def test_a_stale_judge_exits_and_the_push_is_judged_cold(tmp_path: Path) -> None:
    world = World(tmp_path, hook=False)
    policy_copy = installed_copy(tmp_path)
    assert run([*policy_copy, "install", "--server", str(world.server)], tmp_path).ok
    repo = seed(world)
    warm_only(world.server)
    assert run(policy_cmd("warm", "stop", str(world.server)), tmp_path).ok  # the one the seed's first push started
    pid = start_judge(world.server)  # this checkout's policy, not the copy's: another installation
    hows(tmp_path)
    repo.commit("docs: judged cold", {"README.md": "# r\n"})
    result = repo.push("dev")
    assert not result.ok and JUDGED_COLD in result.out, result.out  # the cold path ran
    told = hows(tmp_path)  # then the Python client: the judge again (stale), or none (it starts one)
    assert told[0] == "cold (native): stale judge" and len(told) == 2 and told[1].startswith("cold: "), told
    wait_for(lambda: gone(pid))
    assert run([*policy_copy, "warm", "start", str(world.server)], tmp_path).ok  # unless that push started it
    pid = judge_pid(world.server)
    assert repo.push("dev").ok
    assert hows(tmp_path) == ["warm: 0 (native)"]
    source = tmp_path / "site" / "policy" / "naming.py"
    before = source.stat()
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))  # as an upgrade would
    repo.commit("docs: judged cold again", {"README.md": "# r2\n"})
    result = repo.push("dev")
    assert not result.ok and JUDGED_COLD in result.out, result.out
    assert hows(tmp_path)[0] == "cold (native): stale judge"
    wait_for(lambda: gone(pid))
    assert run([*policy_copy, "warm", "start", str(world.server)], tmp_path).ok
    assert judge_pid(world.server) != pid  # a new one, of the new files
    repo.commit("docs: judged warm again", {"README.md": "# r3\n"})
    assert repo.push("dev").ok
    assert hows(tmp_path) == ["warm: 0 (native)"]


SLOW_GIT = """#!/bin/sh
# the judge's git: waits while the flag file exists (a push whose judging takes as long as the test wants)
: > "{flag}.started"
while [ -e "{flag}" ]; do sleep 0.05; done
exec {git} "$@"
"""


def test_killed_mid_push_refuses_with_one_line(seeded: tuple[World, Repo], tmp_path: Path) -> None:
    world, repo = seeded
    judge = start_judge(world.server)
    hows(tmp_path)
    repo.commit("feat: waiting", {"w.py": "w = 1\n"})
    assert run(["git", "fetch", "-q", str(repo.path), "HEAD:refs/pending"], world.server).ok  # objects, unjudged
    line = f"{repo.sha('HEAD~1')} {repo.sha()} refs/heads/dev\n"
    bin_dir, flag = tmp_path / "bin", tmp_path / "flag"
    bin_dir.mkdir()
    real_git = subprocess.check_output(["sh", "-c", "command -v git"], text=True).strip()
    (bin_dir / "git").write_text(SLOW_GIT.format(flag=flag, git=real_git))
    (bin_dir / "git").chmod(0o755)
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}

    def children_of(pid: int) -> list[int]:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as handle:
            return [int(p) for p in handle.read().split()]

    lines = tmp_path / "lines"
    lines.write_text(line)

    def start_push() -> subprocess.Popen[str]:
        with open(lines) as stdin:
            return subprocess.Popen(
                [str(world.server / "hooks" / "pre-receive")], cwd=world.server, stdin=stdin,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "GIT_DIR": ".", **env},
            )  # fmt: skip

    # the judging child killed: one line, refused
    flag.touch()
    pushing = start_push()
    try:
        wait_for(lambda: Path(f"{flag}.started").exists())  # judging: its first git waits
        judging = [worker for worker in children_of(judge) if children_of(worker)]  # the one running git
        assert len(judging) == 1
        os.kill(judging[0], signal.SIGKILL)
        pushing.wait(timeout=30)  # the hook ends at once (the killed child's git may hold its pipes a moment)
    finally:
        flag.unlink()
        if pushing.poll() is None:
            pushing.kill()
    out, err = pushing.communicate(timeout=60)
    assert out == ""
    assert pushing.returncode == 2
    assert err.splitlines() == [
        "branch-policy: the warm judge of this repository stopped before it gave a verdict; push refused (fail closed)"
    ], err
    assert hows(tmp_path) == ["warm: refused (native)"]  # the native client said it
    # the judge itself killed while its worker judges: the worker still gives the verdict
    flag.touch()
    try:
        Path(f"{flag}.started").unlink()
        pushing = start_push()
        wait_for(lambda: Path(f"{flag}.started").exists())
        os.kill(judge, signal.SIGKILL)
        wait_for(lambda: gone(judge))
    finally:
        flag.unlink()
    _, err = pushing.communicate(timeout=60)
    assert pushing.returncode == 0, err
    cold = hook(world.server, line, {**env, "BRANCH_POLICY_WARM": "off"})
    assert (cold.returncode, cold.stderr) == (0, err)
    shutil.rmtree(policy.warmclient.judge_directory(str(world.server)))  # what the killed judge left


def workers_of(server: Path) -> list[int]:
    pid = judge_pid(server)
    assert pid
    with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as handle:
        return sorted(int(p) for p in handle.read().split())


def test_workers_judge_push_after_push_and_each_reads_the_policy_anew(tmp_path: Path) -> None:
    """One worker judges every push (no fork per push), and nothing one push read outlives it: a
    policy changed on main between two pushes is the policy of the second."""
    world = World(tmp_path)
    repo = seed(world)
    warm_only(world.server)
    result = run(policy_cmd("warm", "start", str(world.server)), world.root, env={"BRANCH_POLICY_WARM_WORKERS": "1"})
    assert result.ok, result.out
    worker = wait_for(lambda: workers_of(world.server))
    for i in range(3):
        repo.checkout("dev")
        repo.branch(f"feature-w{i}")
        repo.commit(f"feat: w {i}", {f"w{i}.py": f"w = {i}\n"})
        assert repo.push(f"feature-w{i}").ok
        repo.commit(f"w {i} without a type", {f"w{i}.py": f"w = {i + 1}\n"})
        assert refused(repo.push(f"feature-w{i}"), "commit-message")
    assert workers_of(world.server) == worker  # the same process judged all six
    # the policy changes between two pushes: the next push, judged by the same worker, is judged under it
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text("rules:\n  commit-message: false\n")
    run(["git", "config", "branchpolicy.file", str(policy_file)], world.server)
    repo.checkout("feature-w0")
    repo.commit("no type here either", {"x.py": "x = 1\n"})
    assert repo.push("feature-w0").ok
    policy_file.write_text("rules:\n  commit-message: true\n")
    repo.commit("nor here", {"x.py": "x = 2\n"})
    assert refused(repo.push("feature-w0"), "commit-message")
    assert workers_of(world.server) == worker


def test_a_worker_left_unclean_by_a_push_is_replaced(seeded: tuple[World, Repo], tmp_path: Path) -> None:
    """A push that blows its time budget leaves git processes behind: its worker gives the verdict,
    exits, and a fresh worker judges the next push."""
    world, repo = seeded
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text("time_budget_s: 1\n")
    run(["git", "config", "branchpolicy.file", str(policy_file)], world.server)
    result = run(policy_cmd("warm", "start", str(world.server)), world.root, env={"BRANCH_POLICY_WARM_WORKERS": "1"})
    assert result.ok, result.out
    worker = wait_for(lambda: workers_of(world.server))
    repo.checkout("dev")
    repo.commit("feat: slow", {"s.py": "s = 1\n"})
    assert run(["git", "fetch", "-q", str(repo.path), "HEAD:refs/pending"], world.server).ok
    line = f"{repo.sha('HEAD~1')} {repo.sha()} refs/heads/dev\n"
    bin_dir, flag = tmp_path / "bin", tmp_path / "flag"
    bin_dir.mkdir()
    real_git = subprocess.check_output(["sh", "-c", "command -v git"], text=True).strip()
    slow_walk = SLOW_GIT.replace(
        ': > "{flag}.started"\n', 'case " $* " in *" rev-list "*) ;; *) exec {git} "$@" ;; esac\n'
    )
    (bin_dir / "git").write_text(slow_walk.format(flag=flag, git=real_git))  # the judging's walk waits
    (bin_dir / "git").chmod(0o755)
    flag.touch()
    try:
        (tmp_path / "lines").write_text(line)
        with open(tmp_path / "lines") as stdin:
            slow = subprocess.Popen(
                [str(world.server / "hooks" / "pre-receive")], cwd=world.server, stdin=stdin,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env={**os.environ, "GIT_DIR": ".", "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"},
            )  # fmt: skip
        time.sleep(3)  # past the budget: refused, while the git it started still waits
    finally:
        flag.unlink()
    _, err = slow.communicate(timeout=60)
    assert slow.returncode != 0 and "time budget" in err, err
    assert wait_for(lambda: workers_of(world.server) not in ([], worker))
    fine = hook(world.server, line, {})
    assert fine.returncode == 0, fine.stderr


def test_concurrent_pushes_through_git_daemon(tmp_path: Path) -> None:
    from servers import git_daemon

    world = World(tmp_path)
    repo = seed(world)
    warm_only(world.server)
    start_judge(world.server)
    with git_daemon(tmp_path, env={"BRANCH_POLICY_WARM": "", "GIT_CONFIG_GLOBAL": "/dev/null",
                                   "GIT_CONFIG_NOSYSTEM": "1"}) as daemon:  # fmt: skip
        url = daemon.url(world.server)
        commits = []
        for i in range(8):
            repo.checkout("dev")
            message = f"feat: change {i}" if i % 2 == 0 else f"change {i} without a type"
            repo.branch(f"feature-c{i}")
            commits.append((f"feature-c{i}", repo.commit(message, {f"c{i}.py": f"c = {i}\n"}), i % 2 == 0))
        results: dict[str, object] = {}

        def push(branch: str) -> None:
            results[branch] = run(["git", "push", "--porcelain", url, branch], repo.path)

        threads = [threading.Thread(target=push, args=(branch,)) for branch, _, _ in commits]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for branch, sha, valid in commits:
        result = results[branch]
        assert JUDGED_COLD not in result.out, result.out  # type: ignore[attr-defined]
        assert result.ok if valid else refused(result, "commit-message"), result.out  # type: ignore[attr-defined]
        assert world.server_sha(f"refs/heads/{branch}") == (sha if valid else None)


def test_the_first_push_through_git_daemon_starts_a_judge_without_hanging(tmp_path: Path) -> None:
    """The judge the first push starts holds none of git's descriptors (else git push would hang)."""
    from servers import git_daemon

    world = World(tmp_path)
    repo = world.work
    with git_daemon(tmp_path, env={"BRANCH_POLICY_WARM": "", "GIT_CONFIG_GLOBAL": "/dev/null",
                                   "GIT_CONFIG_NOSYSTEM": "1"}) as daemon:  # fmt: skip
        repo.git("remote", "set-url", "origin", daemon.url(world.server))
        repo.commit("feat: initial", {"tasks/main/config.yaml": config()})
        started = time.monotonic()
        result = subprocess.run(["git", "push", "origin", "main"], cwd=repo.path, capture_output=True, text=True,
                                timeout=60)  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert time.monotonic() - started < 20
        assert wait_for(lambda: judge_pid(world.server))


def test_a_judge_serves_only_its_repository_and_installation(tmp_path: Path) -> None:
    import socket

    from policy.commands.install import import_paths

    world = World(tmp_path)
    pid = start_judge(world.server)
    other = tmp_path / "other.git"
    run(["git", "init", "-q", "--bare", str(other)], tmp_path)
    mine = policy.warmclient.key(sys.executable, import_paths())

    def ask(cwd: Path, key: str, tag: bytes = policy.warmclient.PROTOCOL) -> bytes:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(os.path.join(policy.warmclient.judge_directory(str(world.server)), policy.warmclient.SOCKET))
            env = {b"GIT_DIR": b".", b"PATH": os.environb[b"PATH"]}
            request = policy.warmclient.request(tag, key, ["pre-receive"], str(cwd), env, 0o22)
            with open(os.devnull, "rb") as null:
                socket.send_fds(sock, [request], [null.fileno()] * 3)
            sock.settimeout(30)
            return sock.recv(1)

    assert ask(other, mine) == b"C"  # another repository: judged cold
    assert ask(world.server, mine, b"branch-policy-warm 1") == b"S"  # another protocol: stale
    wait_for(lambda: gone(pid))
    pid = start_judge(world.server)
    assert ask(world.server, policy.warmclient.key("/usr/bin/python3", import_paths())) == b"S"  # another installation
    wait_for(lambda: gone(pid))


def test_idle_judge_exits_and_a_long_path_works(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    world = World(deep, hook=False)
    assert run(policy_cmd("install", "--server", str(world.server), "--warm-idle", "2"), deep).ok
    warm_only(world.server)
    result = run(policy_cmd("warm", "start", str(world.server), "--idle", "2"), deep)
    pid = judge_pid(world.server)
    assert pid, result.out
    repo = world.work
    repo.commit("feat: initial", {"tasks/main/config.yaml": config()})
    assert repo.push("main").ok  # judged warm, in a repository whose path is longer than a socket's
    wait_for(lambda: gone(pid), timeout=20)  # two seconds without a push
    assert run(policy_cmd("warm", "status", str(world.server)), deep).code == 3
    assert not warm_judges(deep)


def test_no_warm_judge_when_installed_without(seeded: tuple[World, Repo]) -> None:
    world, repo = seeded
    assert run(policy_cmd("install", "--server", str(world.server), "--warm-idle", "0"), world.root).ok
    assert "warmclient" not in (world.server / "hooks" / "pre-receive").read_text()
    repo.commit("feat: plain", {"p.py": "p = 1\n"})
    assert repo.push("dev").ok
    assert judge_pid(world.server) is None


def test_off_a_legacy_hook_and_a_missing_script_through_the_native_hook(
    seeded: tuple[World, Repo], tmp_path: Path
) -> None:
    """The native client is the hook: off, it hands the push to its script; with a legacy hook, the
    script runs that one, then asks the judge through the binary; without its script, the push is
    refused with one line, and the fix it names makes the next push go through."""
    world, repo = seeded
    warm_only(world.server)  # a push that passes was judged warm
    start_judge(world.server)
    hooks = world.server / "hooks"
    hows(tmp_path)
    repo.commit("no type here", {"n.py": "n = 1\n"})
    result = run(["git", "push", "origin", "dev"], repo.path, env={"BRANCH_POLICY_WARM": "off"})
    assert not result.ok and JUDGED_COLD in result.out, result.out  # off: the script judged it, cold
    assert hows(tmp_path) == []  # and no client asked the judge
    assert refused(repo.push("dev"), "commit-message") and hows(tmp_path) == ["warm: 1 (native)"]
    repo.git("reset", "-q", "--hard", "HEAD~1")

    legacy = hooks / "pre-receive.legacy"
    legacy.write_text('#!/bin/sh\nwhile read -r old new ref; do echo "legacy saw $ref" >&2; done\n')
    legacy.chmod(0o755)
    repo.commit("still no type", {"n.py": "n = 2\n"})
    result = repo.push("dev")
    assert refused(result, "commit-message") and "legacy saw refs/heads/dev" in result.out, result.out
    assert hows(tmp_path) == ["warm: 1 (native)"]  # through the binary, called by the script as a client
    repo.git("reset", "-q", "--hard", "HEAD~1")
    legacy.unlink()

    script = hook_script(world.server)
    assert script.name == "branch-policy-pre-receive"
    script.unlink()
    repo.commit("feat: accepted once the hook is whole", {"n.py": "n = 3\n"})
    result = repo.push("dev")
    assert not result.ok, result.out
    lines = [line.rstrip() for line in result.out.splitlines() if "branch-policy:" in line]
    assert lines == [
        f"remote: branch-policy: {hooks}/branch-policy-pre-receive cannot be run (No such file or directory); "
        f"fix: re-run policy install --server {world.server}; push refused (fail closed)"
    ], result.out
    assert hows(tmp_path) == ["cold (native): no key in the hook script", "refused (native hook)"]
    fix = lines[0].split("fix: re-run ", 1)[1].split(";", 1)[0]
    assert run(policy_cmd(*shlex.split(fix)[1:]), tmp_path).ok  # the hint, literally
    assert os.access(script, os.X_OK)
    assert repo.push("dev").ok
    assert world.server_sha("refs/heads/dev") == repo.sha()


def test_no_compiler_the_python_client_judges_warm(seeded: tuple[World, Repo], tmp_path: Path) -> None:
    world, repo = seeded
    hook, script = world.server / "hooks" / "pre-receive", world.server / "hooks" / "branch-policy-pre-receive"
    assert not hook.read_bytes().startswith(b"#!") and script.exists()
    old_client = world.server / "hooks" / "branch-policy-warm-client"  # where an older install put the client
    old_client.write_bytes(hook.read_bytes())
    result = run(policy_cmd("install", "--server", str(world.server)), tmp_path, env={"CC": str(tmp_path / "no-cc")})
    assert not old_client.exists()  # removed with the hook it served
    assert result.ok, result.out
    assert f"warm client: Python (no C compiler ({tmp_path / 'no-cc'}: No such file or directory))" in result.out
    result = run(policy_cmd("install", "--server", str(world.server)), tmp_path, env={"CC": "/bin/false"})
    assert result.ok and "; warm client: Python (/bin/false failed: exit status 1)" in result.out, result.out
    assert hook.read_text().startswith("#!/bin/sh") and not script.exists()  # the script is the hook
    warm_only(world.server)
    start_judge(world.server)
    hows(tmp_path)
    repo.commit("feat: judged warm", {"p.py": "p = 1\n"})
    assert repo.push("dev").ok
    assert hows(tmp_path) == ["warm: 0"]  # by the Python client
    result = run(policy_cmd("install", "--server", str(world.server)), tmp_path)
    assert result.ok and "; warm client: native (the hook; its script: branch-policy-pre-receive)" in result.out
    assert not hook.read_bytes().startswith(b"#!") and script.exists()
    repo.commit("feat: judged warm, natively", {"p.py": "p = 2\n"})
    start_judge(world.server)
    hows(tmp_path)
    assert repo.push("dev").ok
    assert hows(tmp_path) == ["warm: 0 (native)"]


def test_both_clients_find_the_judge_of_an_awkward_path(tmp_path: Path) -> None:
    """The C client names the judge's directory as judge_directory() does: a non-ASCII, non-UTF-8,
    long path, reached through a symbolic link."""
    from policy.commands.install import import_paths

    deep = bytes(tmp_path) + "/dépôt-仓库-\N{SNOWMAN}".encode() + b"-\xff" + b"/" + b"x" * 200 + b"/" + b"y" * 200
    os.makedirs(deep)
    server = deep + b"/server.git"
    assert subprocess.run(["git", "init", "-q", "--bare", server], capture_output=True).returncode == 0
    client = str(World(tmp_path).server / "hooks" / "pre-receive")  # the native client, as installed elsewhere
    link = tmp_path / "link"
    link.symlink_to(os.fsdecode(deep))
    via_link = f"{link}/server.git"
    assert policy.warmclient.judge_directory(via_link) == policy.warmclient.judge_directory(os.fsdecode(server))
    pid = policy.warmclient.start(os.fsdecode(server), import_paths(), 60, wait=30, python=sys.executable)
    assert pid
    try:
        for git_dir in (via_link, os.fsdecode(server)):
            done = subprocess.run(
                [client, sys.executable, *import_paths(), "--", "pre-receive"], cwd=tmp_path,
                env={**os.environ, "GIT_DIR": git_dir}, stdin=subprocess.DEVNULL, timeout=60,
            )  # fmt: skip
            assert done.returncode == 0
            assert hows(tmp_path) == ["warm: 0 (native)"], git_dir
    finally:
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: gone(pid))


if sys.platform != "linux":  # SO_PEERCRED, /proc
    pytestmark = pytest.mark.skip("Linux only")


@pytest.mark.parametrize("warm", ["off", "on"])
@pytest.mark.parametrize("ignored", [True, False])
def test_the_native_hook_hands_its_script_the_signals_git_gave_it(tmp_path: Path, warm: str, ignored: bool) -> None:
    """The script runs with SIGPIPE as git left it for the hook (ignored or not), though the
    binary ignores it while it talks to the judge: a disposition outlives exec."""
    world = World(tmp_path)
    script = hook_script(world.server)
    assert script.name == "branch-policy-pre-receive"
    script.write_text('#!/bin/sh\ngrep "^SigIgn:" /proc/self/status\n')  # what the script was started with

    def preexec() -> None:
        signal.signal(signal.SIGPIPE, signal.SIG_IGN if ignored else signal.SIG_DFL)

    env = {**os.environ, "GIT_DIR": "."}
    env["BRANCH_POLICY_WARM"] = "off" if warm == "off" else ""  # on: no judge runs, the binary asks and falls back
    done = subprocess.run(
        [str(world.server / "hooks" / "pre-receive")], cwd=world.server, env=env, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=60, preexec_fn=preexec,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    mask = int(done.stdout.split()[1], 16)
    assert bool(mask & (1 << (signal.SIGPIPE - 1))) == ignored, done.stdout


def test_a_judge_never_reads_a_push_whose_client_stopped_waiting(seeded: tuple[World, Repo], tmp_path: Path) -> None:
    """A client that waited in vain for the judge's b"A" shuts its side of the socket for reading
    before it judges the push itself (policy.warmclient.gave_up, warmclient.c): a judge that answers
    then fails to send, reads nothing of git's lines, and its worker serves the next push."""
    import socket

    from policy.commands.install import import_paths

    world, repo = seeded
    pid = start_judge(world.server)

    def workers() -> set[str]:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as handle:
            return set(handle.read().split())

    hired = wait_for(lambda: workers() if len(workers()) >= 2 else None)
    old, new = repo.sha("dev"), repo.commit("no type here", {"late.py": "x = 1\n"})
    line = f"{old} {new} refs/heads/dev\n".encode()
    for attempt in range(3):  # more than the workers' first turn: each one lives on
        read, write = os.pipe()
        os.write(write, line)
        os.close(write)
        with socket.socket(socket.AF_UNIX) as sock, open(os.devnull, "wb") as null:
            sock.connect(os.path.join(policy.warmclient.judge_directory(str(world.server)), policy.warmclient.SOCKET))
            sock.shutdown(socket.SHUT_RD)  # what a client does when it stops waiting, here before it asks
            env = {b"GIT_DIR": b".", b"PATH": os.environb[b"PATH"]}
            key = policy.warmclient.key(sys.executable, import_paths())
            request = policy.warmclient.request(policy.warmclient.PROTOCOL, key, ["pre-receive"], str(world.server),
                                                env, 0o22)  # fmt: skip
            socket.send_fds(sock, [request], [read, null.fileno(), null.fileno()])
            sock.setblocking(False)
            wait_for(lambda: _closed(sock), timeout=30)  # the judge let go of the connection
        assert os.read(read, 4096) == line, attempt  # git's lines are all still there, for the cold path
        os.close(read)
    assert workers() == hired  # no worker was lost over it
    hows(tmp_path)
    assert refused(repo.push("dev"), "commit-message")  # and the judge judges the next push as ever
    assert hows(tmp_path) == ["warm: 1 (native)"]


def _closed(sock: object) -> bool:
    """The other end of a socket whose reading side is shut has closed it (a send fails)."""
    try:
        sock.send(b"?")  # type: ignore[attr-defined]
    except BlockingIOError:
        return False
    except OSError:
        return True
    return False


def test_a_client_that_stops_waiting_shuts_the_door_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Python client gives up on a judge that does not answer in time, and a b"A" the judge
    sends after that fails (EPIPE), even while the client's socket is still open: the judge can
    never read git's lines that the cold path is about to read."""
    import socket

    bare = tmp_path / "slow.git"
    run(["git", "init", "-q", "--bare", str(bare)], tmp_path)
    directory = policy.warmclient.judge_directory(str(bare))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    path = os.path.join(directory, policy.warmclient.SOCKET)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    late: list[BaseException | None] = []
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(path)
        listener.listen(1)

        def slow_judge() -> None:  # takes the request, answers after the client's wait ran out
            conn, _ = listener.accept()
            with conn:
                socket.recv_fds(conn, 1 << 16, 3)
                time.sleep(1.0)
                try:
                    conn.sendall(b"A")
                    late.append(None)
                except OSError as exc:
                    late.append(exc)

        thread = threading.Thread(target=slow_judge)
        thread.start()
        monkeypatch.setattr(policy.warmclient, "ACK_SECONDS", 0.3)
        monkeypatch.setenv("GIT_DIR", str(bare))
        try:
            code, how = policy.warmclient._main(["pre-receive"], [], 60, sys.executable)
            thread.join(timeout=30)
        finally:
            os.unlink(path)
    assert (code, how) == (policy.warmclient.COLD, "cold: no answer")
    assert len(late) == 1 and isinstance(late[0], BrokenPipeError), late
