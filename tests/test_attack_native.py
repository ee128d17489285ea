"""Attacks on the native server hook (policy/warmclient.c as hooks/pre-receive): the same push,
made for real, gets the same verdict and the same refusal text whichever way the binary takes it:
to the warm judge, to its script with no judge running, to its script with BRANCH_POLICY_WARM=off,
and through a legacy hook (the script, then the binary as a client); by path and through git
daemon; with push options. And the binary fails closed with one line when the judge misbehaves."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Optional

import pytest
from conftest import Repo, Result, World, hows, policy_cmd, run, seed

import policy.warmclient

MODES = ["judge", "none", "off", "legacy", "legacy-none"]
LEGACY = '#!/bin/sh\nwhile read -r old new ref; do echo "legacy saw $ref" >&2; done\n'


@pytest.fixture(autouse=True)
def warm_on(warm_judge_on: None) -> None:
    """These attacks go through the warm judge whatever POLICY_TEST_HOOK says."""


def refs(server: Path) -> dict[str, str]:
    out = run(["git", "for-each-ref", "--format=%(objectname) %(refname)"], server).out
    return {ref: sha for sha, ref in (line.split(" ", 1) for line in out.splitlines())}


def restore(server: Path, before: dict[str, str]) -> None:
    now = refs(server)
    lines = [f"delete {ref}\n" for ref in now if ref not in before]
    lines += [f"update {ref} {sha}\n" for ref, sha in before.items() if now.get(ref) != sha]
    if lines:
        assert run(["git", "update-ref", "--stdin"], server, input="".join(lines)).ok


def verdict(result: Result) -> tuple[bool, list[str]]:
    """Accepted or not, and what the hook said (without git's own lines and the legacy's)."""
    lines = result.out.splitlines()
    said = [line.rstrip() for line in lines if line.startswith("remote:") and "legacy saw" not in line]
    return result.ok, said


def in_mode(world: World, mode: str, tmp_path: Path) -> dict[str, str]:
    """Set the server up for `mode`; the environment the push needs."""
    legacy = world.server / "hooks" / "pre-receive.legacy"
    legacy.unlink(missing_ok=True)
    running = run(policy_cmd("warm", "status", str(world.server)), tmp_path).ok
    if mode in ("judge", "legacy") and not running:
        assert run(policy_cmd("warm", "start", str(world.server)), tmp_path).ok
    if mode in ("none", "off", "legacy-none") and running:
        assert run(policy_cmd("warm", "stop", str(world.server)), tmp_path).ok
    if mode.startswith("legacy"):
        legacy.write_text(LEGACY)
        legacy.chmod(0o755)
    return {"BRANCH_POLICY_WARM": "off"} if mode == "off" else {}


EXPECTED_HOW = {
    "judge": ["warm: {code} (native)"],
    "none": ["cold (native): no judge", "cold: no judge (one starts)"],
    "off": [],
    "legacy": ["warm: {code} (native)"],
    "legacy-none": ["cold (native): no judge", "cold: no judge (one starts)"],  # the binary as a client, then Python
}


def differential(
    world: World, tmp_path: Path, push: Callable[[dict[str, str]], Result], modes: list[str] = MODES
) -> tuple[bool, list[str]]:
    """The push in every mode, from the same server state; the verdict they all agree on."""
    before = refs(world.server)
    seen = {}
    for mode in modes:
        env = in_mode(world, mode, tmp_path)
        hows(tmp_path)
        result = push(env)
        seen[mode] = verdict(result)
        how = hows(tmp_path)
        code = 0 if result.ok else 1
        assert how == [h.format(code=code) for h in EXPECTED_HOW[mode]], (mode, how, result.out)
        if mode.startswith("legacy"):
            assert "legacy saw" in result.out or not before, result.out
        restore(world.server, before)
    run(policy_cmd("warm", "stop", str(world.server)), tmp_path)
    first = seen[modes[0]]
    for mode in modes[1:]:
        assert seen[mode] == first, (mode, seen[mode], modes[0], first)
    return first


@pytest.fixture(params=["path", "git-daemon"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[World, Repo]]:
    """A seeded world whose server advertises push options; pushed by path or through git daemon
    (the daemon's environment is the test's: BRANCH_POLICY_WARM=off is set on the push by path only)."""
    from servers import git_daemon

    world = World(tmp_path)
    assert run(["git", "config", "receive.advertisePushOptions", "true"], world.server).ok
    repo = seed(world)
    if request.param == "path":
        yield world, repo
    else:
        env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "BRANCH_POLICY_WARM": "",
               "BRANCH_POLICY_WARM_LOG": str(tmp_path / "warm.log")}  # fmt: skip
        with git_daemon(tmp_path, env=env) as daemon:
            repo.git("remote", "set-url", "origin", daemon.url(world.server))
            yield world, repo
    run(policy_cmd("warm", "stop", str(world.server)), tmp_path)


OPTIONS = ["ci.skip", "BRANCH_POLICY_WARM=off", "PYTHONPATH=/tmp", "x" * 4000, "GIT_DIR=/", "--", "\u00e9\u00ff"]


def pusher(repo: Repo, *refspecs: str, options: list[str] = OPTIONS) -> Callable[[dict[str, str]], Result]:
    flags = [f"--push-option={o}" for o in options]
    return lambda env: run(["git", "push", "--porcelain", *flags, "origin", *refspecs], repo.path, env=env)


def test_push_options_change_no_verdict(served: tuple[World, Repo], tmp_path: Path) -> None:
    world, repo = served
    daemon = "git://" in repo.git("remote", "get-url", "origin")
    # the daemon's environment is not the push's: no "off" through it
    modes = [m for m in MODES if m != "off"] if daemon else MODES
    repo.commit("no type here", {"n.py": "n = 1\n"})
    ok, said = differential(world, tmp_path, pusher(repo, "dev"), modes)
    assert not ok and any("commit-message" in line for line in said), said
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.commit("feat: an honest change", {"n.py": "n = 2\n"})
    ok, said = differential(world, tmp_path, pusher(repo, "dev"), modes)
    assert ok, said


def test_attack_classes_get_one_verdict_in_every_mode(seeded: tuple[World, Repo], tmp_path: Path) -> None:
    world, repo = seeded
    base = repo.sha("dev")
    cases: list[tuple[list[str], Optional[bool]]] = []

    bad = repo.commit("no type here", {"n.py": "n = 1\n"})
    repo.git("reset", "-q", "--hard", base)
    good = repo.commit("feat: an honest change", {"m.py": "m = 1\n"})
    cases.append(([f"{bad}:refs/heads/dev"], False))
    cases.append(([f"{bad}:refs/heads/feature-a", f"{bad}:refs/heads/feature-b"], False))  # vouching for each other
    cases.append(([f"{good}:refs/notes/x"], False))
    cases.append(([f"{good}:refs/replace/{base}"], False))
    cases.append(([f"{good}:refs/heads/feature-\udcff"], False))  # not UTF-8 (surrogateescape: byte 0xff)
    cases.append(([f"{good}:refs/for/main"], None))
    cases.append(([f"{good}:refs/heads/dev"], True))
    cases.append(([f"{good}:refs/heads/main"], False))  # a direct commit on main
    cases.append(([":refs/heads/dev"], False))  # deleting dev
    cases.append(([f"{good}:refs/tags/v9.9.9"], None))  # a version tag off main
    cases.append(([f"{good}:refs/heads/feature-c", f"{bad}:refs/heads/dev"], False))
    for refspecs, accepted in cases:
        specs = [os.fsencode(s).decode("utf-8", "surrogateescape") for s in refspecs]

        def push(env: dict[str, str], specs: list[str] = specs) -> Result:
            args = ["git", "push", "--porcelain", "origin", *specs]
            proc = subprocess.run(
                [os.fsencode(a) for a in args], cwd=repo.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                env={**os.environ, **env},
            )  # fmt: skip
            return Result(proc.returncode, proc.stdout.decode("utf-8", "replace"))

        ok, said = differential(world, tmp_path, push)
        assert accepted is None or ok == accepted, (refspecs, said)


# --------------------------------------------------------------------------- a judge that misbehaves


def fake_judge(server: Path, answer: bytes) -> threading.Thread:
    """A socket where the judge's would be, that takes one request and answers `answer`, then closes."""
    assert run(policy_cmd("warm", "stop", str(server)), server).ok
    directory = policy.warmclient.judge_directory(str(server))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    path = os.path.join(directory, "judge2.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)

    def serve() -> None:
        conn, _ = listener.accept()
        _, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
        for fd in fds:
            os.close(fd)
        conn.sendall(answer)
        conn.close()
        listener.close()
        os.unlink(path)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("answer", [b"A", b"AX", b"AY\x00", b"AX\x4b", b"AX\x7e", b"AX\x7f"])
def test_a_judge_that_gives_no_verdict_refuses(seeded: tuple[World, Repo], tmp_path: Path, answer: bytes) -> None:
    world, repo = seeded
    repo.commit("feat: an honest change", {"m.py": "m = 1\n"})
    thread = fake_judge(world.server, answer)
    hows(tmp_path)
    result = repo.push("dev")
    thread.join(10)
    verdict_given = answer[:2] == b"AX" and len(answer) == 3  # 75, 126, 127: never "no verdict", a refusal
    assert hows(tmp_path) == ["warm: 1 (native)" if verdict_given else "warm: refused (native)"], result.out
    assert not result.ok, result.out
    said = [line for line in result.out.splitlines() if "branch-policy" in line]
    assert len(said) <= 1 and "Traceback" not in result.out, result.out
    assert world.server_sha("refs/heads/dev") != repo.sha()


@pytest.mark.skipif(not os.environ.get("POLICY_SLOW_ATTACKS"), reason="about 25 s: POLICY_SLOW_ATTACKS=1")
def test_a_judge_that_answers_after_the_client_gave_up_reads_nothing(
    seeded: tuple[World, Repo], tmp_path: Path
) -> None:
    """A stopped judge: the binary gives up after 20 s and hands the push to its script, whose Python
    client waits for the same judge; the judge, let go after the binary gave up, finds the binary's
    request in its queue: it must not take it (its client is gone), only the Python client's."""
    import signal
    import time

    world, repo = seeded
    run(policy_cmd("warm", "stop", str(world.server)), tmp_path)
    assert run(policy_cmd("warm", "start", str(world.server)), tmp_path).ok
    status = run(policy_cmd("warm", "status", str(world.server)), tmp_path).out
    pid = int(status.rsplit("pid ", 1)[1].rstrip(")\n"))
    repo.commit("no type here", {"n.py": "n = 1\n"})
    hows(tmp_path)
    os.kill(pid, signal.SIGSTOP)
    try:
        proc = subprocess.Popen(["git", "push", "--porcelain", "origin", "dev"], cwd=repo.path, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
        time.sleep(21.5)  # the binary gave up (20 s) and its script's Python client waits
    finally:
        os.kill(pid, signal.SIGCONT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "commit-message" in out, out
    assert hows(tmp_path) == ["cold (native): no answer", "warm: 1"], out
    assert world.server_sha("refs/heads/dev") != repo.sha()


@pytest.mark.parametrize(
    "damage",
    [
        "not-executable",
        pytest.param(
            "a-directory",
            marks=pytest.mark.xfail(strict=True, reason="policy install --server fails: IsADirectoryError"),
        ),
        "no-key-line",
    ],
)
def test_a_damaged_hook_script_refuses_and_its_hint_fixes_it(
    seeded: tuple[World, Repo], tmp_path: Path, damage: str
) -> None:
    import shlex

    world, repo = seeded
    script = world.server / "hooks" / "branch-policy-pre-receive"
    text = script.read_text()
    assert run(policy_cmd("warm", "stop", str(world.server)), tmp_path).ok  # the script's turn: no judge
    if damage == "not-executable":
        script.chmod(0o644)
    elif damage == "a-directory":
        script.unlink()
        script.mkdir()
    else:  # an older script: no key, judged cold by the script itself
        script.write_text(text.replace("\n# warm judge key (hex): ", "\n# key: "))
    repo.commit("feat: accepted once the hook is whole", {"n.py": "n = 3\n"})
    result = repo.push("dev")
    if damage == "no-key-line":
        assert result.ok, result.out
        return
    assert not result.ok, result.out
    lines = [line.rstrip() for line in result.out.splitlines() if "branch-policy:" in line]
    assert len(lines) == 1 and "fix: re-run policy install --server" in lines[0], result.out
    fix = lines[0].split("fix: re-run ", 1)[1].split(";", 1)[0]
    done = run(policy_cmd(*shlex.split(fix)[1:]), tmp_path)
    assert done.ok, done.out
    assert repo.push("dev").ok
