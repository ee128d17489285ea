"""Timing helpers for bench/run.py: one fresh probe process per measured run.

Each run goes through a small Python probe that starts the command, waits for it
(killing its whole process group on timeout), and reports the wall time and
``getrusage(RUSAGE_CHILDREN).ru_maxrss``: the peak RSS of the largest process in
the measured tree (the command or one of the git processes it waited for).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple, Optional

PROBE = r"""
import json, os, resource, signal, subprocess, sys, threading, time
with open(sys.argv[1]) as f:
    spec = json.load(f)
out = open(spec["stdout"], "wb")
err = open(spec["stderr"], "wb")
stdin = open(spec["stdin"], "rb") if spec["stdin"] else subprocess.DEVNULL
killed = []
def kill():
    killed.append(True)
    os.killpg(proc.pid, signal.SIGKILL)
start = time.perf_counter()
proc = subprocess.Popen(spec["cmd"], cwd=spec["cwd"], env=spec["env"], stdin=stdin,
                        stdout=out, stderr=err, start_new_session=True)
# A timer kills on timeout: Popen.wait(timeout=...) polls with sleeps of up to 50 ms,
# which would round every measured time up to a 50 ms step.
timer = threading.Timer(spec["timeout"], kill)
timer.start()
rc = proc.wait()
seconds = time.perf_counter() - start
timer.cancel()
rc = None if killed else rc
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"rc": rc, "seconds": seconds, "maxrss_kb": rss}))
"""

# Runs policy's main() in-process and writes its own peak RSS (no children) when it returns.
# (The `policy` script ends with os._exit, which skips atexit: main() returns first.)
SELF_RSS = r"""
import resource, sys
from policy.cli import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    f.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
sys.exit(code)
"""

GIT_WRAPPER = """#!/bin/sh
printf '%s\\n' "$*" >> {counter}
exec {real} "$@"
"""


class Run(NamedTuple):
    """One run of a command."""

    rc: Optional[int]  # None: killed at the timeout
    seconds: float
    maxrss_kb: int
    stdout: str  # whole stdout when kept, else ""
    stderr: str

    @property
    def ok(self) -> bool:
        return self.rc == 0

    def tail(self, lines: int = 3) -> str:
        text = (self.stderr.strip() or self.stdout.strip()).splitlines()
        return " | ".join(text[-lines:])


class Result(NamedTuple):
    """Several runs of one command: the median and the first run's output."""

    runs: list[Run]

    @property
    def median(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def first(self) -> Run:
        return self.runs[0]

    @property
    def rss_mb(self) -> float:
        return max(r.maxrss_kb for r in self.runs) / 1024

    @property
    def timed_out(self) -> bool:
        return any(r.rc is None for r in self.runs)


def probe(
    cmd: Sequence[str],
    cwd: Path,
    *,
    env: Optional[dict[str, str]] = None,
    timeout: float = 900,
    keep_stdout: bool = False,
    stdin: Optional[Path] = None,
) -> Run:
    """Run cmd once in a fresh probe process."""
    with tempfile.TemporaryDirectory(prefix="bench-probe-") as tmp:
        out = Path(tmp, "stdout") if keep_stdout else Path(os.devnull)
        err = Path(tmp, "stderr")
        spec = {
            "cmd": list(cmd),
            "cwd": str(cwd),
            "env": env,
            "timeout": timeout,
            "stdout": str(out),
            "stderr": str(err),
            "stdin": str(stdin) if stdin else None,
        }
        spec_file = Path(tmp, "spec.json")  # a command line can outgrow one argv string
        spec_file.write_text(json.dumps(spec))
        done = subprocess.run(
            [sys.executable, "-c", PROBE, str(spec_file)], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            return Run(-1, 0.0, 0, "", f"probe failed: {done.stderr.strip()[-500:]}")
        report = json.loads(done.stdout)
        stdout = out.read_text(errors="replace") if keep_stdout else ""
        return Run(report["rc"], report["seconds"], report["maxrss_kb"], stdout, err.read_text(errors="replace"))


def measure(cmd: Sequence[str], cwd: Path, repeat: int, **kwargs: object) -> Result:
    """Run cmd `repeat` times; stops early after a timeout (it would only repeat)."""
    runs: list[Run] = []
    for _ in range(max(1, repeat)):
        runs.append(probe(cmd, cwd, **kwargs))  # type: ignore[arg-type]
        if runs[-1].rc is None:
            break
    return Result(runs)


def measure_rounds(
    cmds: dict[str, tuple[Sequence[str], dict[str, object]]], cwd: Path, repeat: int
) -> dict[str, Result]:
    """Run each command `repeat` times in interleaved rounds (one run of each per round), so that
    a burst of load on the machine weighs on a command and on the floors it is compared with
    alike. A command that times out is not run again."""
    runs: dict[str, list[Run]] = {label: [] for label in cmds}
    for _ in range(max(1, repeat)):
        for label, (cmd, kwargs) in cmds.items():
            if runs[label] and runs[label][-1].rc is None:
                continue
            runs[label].append(probe(cmd, cwd, **kwargs))  # type: ignore[arg-type]
    return {label: Result(found) for label, found in runs.items()}


def self_rss_mb(policy_args: Sequence[str], cwd: Path, timeout: float) -> Optional[float]:
    """Peak RSS of the `python -m policy` process alone (its git children excluded)."""
    with tempfile.TemporaryDirectory(prefix="bench-rss-") as tmp:
        target = Path(tmp, "rss")
        probe([sys.executable, "-c", SELF_RSS, str(target), *policy_args], cwd, timeout=timeout)
        if not target.exists():
            return None
        return int(target.read_text()) / 1024


class GitCount(NamedTuple):
    total: int
    by_command: Counter[str]

    def summary(self) -> str:
        parts = ", ".join(f"{name} x{n}" for name, n in self.by_command.most_common())
        return f"{self.total} ({parts})" if parts else str(self.total)


def count_git_processes(
    cmd: Sequence[str],
    cwd: Path,
    timeout: float,
    stdin: Optional[Path] = None,
    extra_env: Optional[dict[str, str]] = None,
) -> tuple[GitCount, Run]:
    """Run cmd once with a counting `git` wrapper first on PATH."""
    real = shutil.which("git")
    if real is None:
        raise RuntimeError("git not found on PATH")
    with tempfile.TemporaryDirectory(prefix="bench-gitcount-") as tmp:
        counter = Path(tmp, "calls")
        counter.touch()
        wrapper = Path(tmp, "bin", "git")
        wrapper.parent.mkdir()
        wrapper.write_text(GIT_WRAPPER.format(counter=counter, real=real))
        wrapper.chmod(0o755)
        env = dict(os.environ, **(extra_env or {}), PATH=f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}")
        env.pop("GIT_PYTHON_GIT_EXECUTABLE", None)
        run = probe(cmd, cwd, env=env, timeout=timeout, stdin=stdin)
        calls = counter.read_text().splitlines()
    return GitCount(len(calls), Counter(git_subcommand(c) for c in calls)), run


def git_subcommand(argv: str) -> str:
    """`-C dir -c k=v --no-pager log ...` -> `log` (the wrapper logs "$*")."""
    words = argv.split()
    i = 0
    while i < len(words) and words[i].startswith("-"):
        i += 2 if words[i] in ("-C", "-c", "--git-dir", "--work-tree", "--namespace") else 1
    return words[i] if i < len(words) else "?"


def fmt_seconds(seconds: Optional[float]) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_result(result: Optional[Result], timeout: float) -> str:
    """Median, or what went wrong instead."""
    if result is None:
        return "-"
    if result.timed_out:
        return f"> {timeout:.0f} s"
    return fmt_seconds(result.median)


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    print(f"\n{title}")
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)))
    sys.stdout.flush()
