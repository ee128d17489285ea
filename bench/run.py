"""Benchmark `policy check` and the hooks against generated histories; prints figures.

    python bench/run.py [--sizes 1000,10000,100000] [--repeat 5] [--quick]

It asserts nothing about time: it prints tables. Repositories come from
bench/generate.py and are cached in bench/.cache/ (keyed by generate.py's hash,
the seed and the size). Every measured run is a fresh process (see measure.py);
a failing command is shown in the table with the tail of its output, and the
benchmark goes on.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple, Optional, TypeVar

from measure import (
    GitCount,
    Result,
    Run,
    count_git_processes,
    fmt_result,
    fmt_seconds,
    measure,
    measure_rounds,
    print_table,
    probe,
    self_rss_mb,
)

BENCH_DIR = Path(__file__).resolve().parent
GENERATE = BENCH_DIR / "generate.py"
ZERO = "0" * 40
T = TypeVar("T")
SLOW_PUSH = 30.0  # seconds: a push slower than this is not repeated
BOT = {
    "GIT_AUTHOR_NAME": "Bench Bot",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "Bench Bot",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}
GITPYTHON_STATS = r"""
import sys, git
repo = git.Repo(sys.argv[1])
count = 0
for commit in repo.iter_commits(sys.argv[2]):
    commit.stats.total
    count += 1
print(count)
"""


@dataclass
class Config:
    sizes: list[int]
    repeat: int
    seed: int
    policy_cmd: list[str]
    cache: Path
    timeout: float
    peer_timeout: float
    push_commits: int
    hook_runs: int
    peers_bin: list[Path]
    peers: bool
    push: bool
    hooks: bool
    scale: bool = True
    load: bool = True
    load_clients: int = 20
    load_pushes: int = 10
    load_commits: int = 5000
    scale_commits: int = 50000
    many_branches: int = 10000
    policy_error: Optional[str] = None  # set when `policy --help` fails


@dataclass
class SizeFigures:
    size: int
    commits: int
    floor_a: Result
    floor_b: Result
    full: Optional[Result] = None
    messages: Optional[Result] = None
    fixed: Optional[Result] = None  # policy check of an empty range: start-up and set-up alone
    self_rss: Optional[float] = None
    git_count: Optional[GitCount] = None
    peers: dict[str, Result] = field(default_factory=dict)


# -- git and repositories --------------------------------------------------------------


def git(repo: Path, *args: str, env: Optional[dict[str, str]] = None, stdin: Optional[bytes] = None) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True, env=env, check=True)
    return done.stdout.decode().strip()


def generator_hash() -> str:
    return hashlib.sha256(GENERATE.read_bytes()).hexdigest()[:10]


def prune_cache(cfg: Config) -> None:
    """Drop repositories made by an older generate.py (their shape may differ)."""
    if not cfg.cache.is_dir():
        return
    current = f"g{generator_hash()}-"
    for entry in cfg.cache.iterdir():
        if entry.is_dir() and entry.name.startswith("g") and not entry.name.startswith(current):
            shutil.rmtree(entry, ignore_errors=True)


def ensure_repo(cfg: Config, commits: int, checkpoints: Sequence[int] = (), branch_refs: bool = False) -> Path:
    """A generated repository from the cache, generated on first use."""
    suffix = "".join(f"-cp{c}" for c in checkpoints) + ("-br" if branch_refs else "")
    repo = cfg.cache / f"g{generator_hash()}-s{cfg.seed}-n{commits}{suffix}"
    if (repo / ".git" / "bench-complete").exists():
        return repo
    shutil.rmtree(repo, ignore_errors=True)
    repo.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(GENERATE), "--commits", str(commits), "--seed", str(cfg.seed)]
    for point in checkpoints:
        cmd += ["--checkpoint", str(point)]
    cmd += ["--branch-refs"] if branch_refs else []
    done = subprocess.run([*cmd, str(repo)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"generate.py failed: {done.stderr.strip()[-500:]}")
    print(f"  {done.stdout.strip()}")
    (repo / ".git" / "bench-complete").write_text(done.stdout)
    return repo


def find_tool(cfg: Config, name: str) -> Optional[str]:
    """In --peers-bin, then beside this python (a peer installed in the benchmark's virtualenv),
    then on PATH."""
    for directory in [*cfg.peers_bin, Path(sys.executable).parent]:
        candidate = directory / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


# -- policy ------------------------------------------------------------------------------


def policy_check_args(tip: str, rules: Optional[str] = None) -> list[str]:
    args = ["check", "--ref", "refs/heads/main", "--old", ZERO, "--new", tip]
    return args + (["--rules", rules] if rules else [])


def verdict(run: Run) -> str:
    """rc and violation count of a `policy check` run, or its error."""
    if run.rc is None:
        return "timed out"
    if run.rc == 0:
        return "accepted"
    if run.rc == 1:
        lines = run.stdout.strip().splitlines()
        found = re.match(r"(\d+) violations?", lines[-1]) if lines else None
        return f"{found.group(1) if found else len(lines)} violation(s)"
    return f"rc={run.rc}: {run.tail()}"


def show_violations(label: str, run: Run) -> None:
    if run.rc == 1:
        print(f"  !! {label} reported {verdict(run)}; first lines:")
        for line in run.stdout.strip().splitlines()[:5]:
            print(f"     {line[:200]}")
    elif run.rc not in (0, None):
        print(f"  !! {label} failed: {run.tail(5)}")


# -- one size ------------------------------------------------------------------------------


def bench_size(cfg: Config, size: int) -> SizeFigures:
    print(f"\n== {size:,} commits ==")
    repo = ensure_repo(cfg, size)
    tip = git(repo, "rev-parse", "refs/bench/main")
    commits = int(git(repo, "rev-list", "--count", tip))
    merges = int(git(repo, "rev-list", "--count", "--merges", tip))
    print(
        f"  repo {repo}\n  range: refs/bench/main = {tip[:12]}, {commits:,} commits "
        f"({merges:,} merges), checked as a bootstrap of refs/heads/main"
    )
    # The floors and policy check run in interleaved rounds: their ratios are what matters.
    timed: dict[str, tuple[Sequence[str], dict[str, object]]] = {
        "floor_a": (["git", "log", "--format=%B", "-z", tip], {"timeout": cfg.timeout}),
        "floor_b": (["git", "log", "--parents", "--name-status", "-z", "--no-renames", tip], {"timeout": cfg.timeout}),
    }
    if cfg.policy_error is None:
        policy_kwargs: dict[str, object] = {"timeout": cfg.timeout, "keep_stdout": True}
        timed["full"] = ([*cfg.policy_cmd, *policy_check_args(tip)], policy_kwargs)
        timed["messages"] = ([*cfg.policy_cmd, *policy_check_args(tip, "commit-message")], policy_kwargs)
        empty = ["check", "--ref", "refs/heads/main", "--old", tip, "--new", tip]  # nothing to walk
        timed["fixed"] = ([*cfg.policy_cmd, *empty], policy_kwargs)
    results = measure_rounds(timed, repo, cfg.repeat)
    figures = SizeFigures(size, commits, floor_a=results["floor_a"], floor_b=results["floor_b"])
    if cfg.policy_error is None:
        figures.full, figures.messages, figures.fixed = results["full"], results["messages"], results["fixed"]
        bench_policy(cfg, repo, tip, figures)
    if cfg.peers:
        bench_peers(cfg, repo, tip, figures)
    print_size(cfg, figures)
    return figures


def bench_policy(cfg: Config, repo: Path, tip: str, figures: SizeFigures) -> None:
    """After the timed runs: their verdicts, the python process's own peak RSS, git processes."""
    full_args = policy_check_args(tip)
    assert figures.full and figures.messages
    show_violations("policy check (all rules)", figures.full.first)
    show_violations("policy check --rules commit-message", figures.messages.first)
    figures.self_rss = self_rss_mb(full_args, repo, cfg.timeout)  # in-process, with this python
    figures.git_count, _ = count_git_processes([*cfg.policy_cmd, *full_args], repo, cfg.timeout)


def has_gitpython() -> bool:
    """GitPython is the peer row's, not a dependency of branch-policy: pip install -e '.[bench]'."""
    import importlib.util

    return importlib.util.find_spec("git") is not None


def peer_commands(cfg: Config, repo: Path, tip: str) -> dict[str, Optional[list[str]]]:
    """Peer tools over the same history (None: not installed)."""
    cz, gitlint, commitlint = (find_tool(cfg, n) for n in ("cz", "gitlint", "commitlint"))
    commands: dict[str, Optional[list[str]]] = {
        "cz check --rev-range TIP": [cz, "check", "--rev-range", tip] if cz else None,
        "gitlint --commits TIP": ([gitlint, "--ignore-stdin", "--commits", tip] if gitlint else None),
        "commitlint --to TIP": None,
        "GitPython iter_commits + stats": (
            [sys.executable, "-c", GITPYTHON_STATS, str(repo), tip] if has_gitpython() else None
        ),
    }
    if commitlint:
        conventional = Path(commitlint).parent.parent / "@commitlint" / "config-conventional" / "lib" / "index.js"
        extends = str(conventional) if conventional.exists() else "@commitlint/config-conventional"
        commands["commitlint --to TIP"] = [commitlint, "--to", tip, "-x", extends]
    return commands


def bench_peers(cfg: Config, repo: Path, tip: str, figures: SizeFigures) -> None:
    for label, cmd in peer_commands(cfg, repo, tip).items():
        if cmd is None:
            print(f"  {label}: not installed")
            continue
        figures.peers[label] = measure(cmd, repo, 1, timeout=cfg.peer_timeout)


def ratio(value: Optional[Result], floor: Result, name: str) -> str:
    if value is None or value.timed_out or floor.median <= 0:
        return "-"
    return f"{value.median / floor.median:.1f}x {name}"


def marginal(value: Optional[Result], fixed: Optional[Result], floor: Result, name: str) -> str:
    """(value - fixed cost) / floor: what the range itself costs, next to git's own walk of it."""
    if value is None or fixed is None or value.timed_out or fixed.timed_out or floor.median <= 0:
        return "-"
    return f"{(value.median - fixed.median) / floor.median:.1f}x {name}"


def rss_cell(result: Optional[Result], self_rss: Optional[float] = None) -> str:
    if result is None:
        return "-"
    own = f" (python {self_rss:.0f})" if self_rss is not None else ""
    return f"{result.rss_mb:.0f}{own}"


def policy_row(
    cfg: Config, label: str, result: Optional[Result], floor: Result, floor_name: str, figures: SizeFigures
) -> list[str]:
    if result is None:
        return [label, "-", "-", "-", "-", cfg.policy_error or "not run"]
    per_k = f"{result.median * 1000 / (figures.commits / 1000):.1f}" if figures.commits else "-"
    ok = result.first.rc in (0, 1)
    return [
        label,
        fmt_result(result, cfg.timeout) if ok else "FAILED",
        ratio(result, floor, floor_name) if ok else "-",
        per_k if ok else "-",
        rss_cell(result, figures.self_rss if "all" in label else None),
        verdict(result.first),
    ]


def print_size(cfg: Config, f: SizeFigures) -> None:
    rows = [
        ["floor A: git log --format=%B -z", fmt_result(f.floor_a, cfg.timeout), "1.0x A", "-", rss_cell(f.floor_a), ""],
        [
            "floor B: git log --parents --name-status -z",
            fmt_result(f.floor_b, cfg.timeout),
            "1.0x B",
            "-",
            rss_cell(f.floor_b),
            "",
        ],
        policy_row(cfg, "policy check (all rules)", f.full, f.floor_b, "B", f),
        policy_row(cfg, "policy check --rules commit-message", f.messages, f.floor_a, "A", f),
        [
            "policy check, empty range (fixed cost)",
            fmt_result(f.fixed, cfg.timeout) if f.fixed else "-",
            "-",
            "-",
            rss_cell(f.fixed) if f.fixed else "-",
            verdict(f.fixed.first) if f.fixed else "",
        ],
    ]
    for label, result in f.peers.items():
        note = f"rc={result.first.rc}" if result.first.rc is not None else "killed"
        rows.append(
            [
                f"peer: {label}",
                fmt_result(result, cfg.peer_timeout),
                ratio(result, f.floor_a, "A"),
                "-",
                rss_cell(result),
                note,
            ]
        )
    headers = ["measure", "median", "vs floor", "ms/1k commits", "peak RSS MB", "result"]
    print_table(f"{f.size:,} commits ({f.commits:,} in range), median of {cfg.repeat} (peers: 1 run)", headers, rows)
    if f.git_count is not None:
        print(f"git processes spawned by policy check: {f.git_count.summary()}")


def print_summary(cfg: Config, all_figures: list[SizeFigures]) -> None:
    rows = []
    for f in all_figures:
        rows.append(
            [
                f"{f.commits:,}",
                fmt_result(f.floor_a, cfg.timeout),
                fmt_result(f.floor_b, cfg.timeout),
                fmt_result(f.full, cfg.timeout),
                ratio(f.full, f.floor_b, "B"),
                f"{f.full.median * 1e6 / f.commits:.1f}" if f.full and f.commits else "-",
                rss_cell(f.full, f.self_rss),
                fmt_result(f.messages, cfg.timeout),
                ratio(f.messages, f.floor_a, "A"),
                fmt_result(f.fixed, cfg.timeout) if f.fixed else "-",
                marginal(f.full, f.fixed, f.floor_b, "B"),
                marginal(f.messages, f.fixed, f.floor_a, "A"),
                str(f.git_count.total) if f.git_count else "-",
            ]
        )
    print_table(
        "SUMMARY: policy check over the whole history (bootstrap of main)",
        [
            "commits",
            "floor A",
            "floor B",
            "full check",
            "full/B",
            "ms/1k",
            "peak RSS MB",
            "msg-only",
            "msg/A",
            "fixed",
            "(full-fixed)/B",
            "(msg-fixed)/A",
            "git procs",
        ],
        rows,
    )


# -- push latency --------------------------------------------------------------------------


def new_server(root: Path, name: str) -> Path:
    server = root / name
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(server)], check=True)
    return server


def install_server_hook(cfg: Config, server: Path) -> Optional[str]:
    """None when installed, else the error."""
    run = probe([*cfg.policy_cmd, "install", "--server", str(server)], server, timeout=60)
    return None if run.ok else f"rc={run.rc}: {run.tail()}"


def warm_judge(cfg: Config, server: Path, running: bool) -> None:
    """Start the server's warm judge (policy/warm.py) before the timed pushes, so that none of them
    is the first push that starts it; or stop it."""
    probe([*cfg.policy_cmd, "warm", "start" if running else "stop", str(server)], server, timeout=60)


COLD_ENV = {"BRANCH_POLICY_WARM": "off"}  # the hook judges the push in a process of its own


def set_hook(server: Path, enabled: bool) -> None:
    hook, off = server / "hooks" / "pre-receive", server / "hooks" / "pre-receive.bench-off"
    if enabled and off.exists():
        off.rename(hook)
    if not enabled and hook.exists():
        hook.rename(off)


TIMED_HOOK = """#!/bin/sh
# bench: the installed hook (pre-receive.timed), timed from inside receive-pack
start=$(date +%s%N)
"$(dirname "$0")/pre-receive.timed" "$@"
rc=$?
echo $(( $(date +%s%N) - start )) >> "$(dirname "$0")/bench-hook-ns"
exit $rc
"""
# The same with bash's clock, which starts no process: the timer's own cost (about 1.4 ms of CPU
# against 2.6 ms for sh and two `date`s) is paid by every push of the load row's hook phases.
TIMED_HOOK_BASH = """#!{bash} --norc
# bench: the installed hook (pre-receive.timed), timed from inside receive-pack
start=${{EPOCHREALTIME//[.,]/}}
"${{0%/*}}/pre-receive.timed" "$@"
rc=$?
end=${{EPOCHREALTIME//[.,]/}}
echo "$(( (end - start) * 1000 ))" >> "${{0%/*}}/bench-hook-ns"
exit $rc
"""


def timed_hook_script() -> str:
    bash = shutil.which("bash")
    if bash:
        probe = subprocess.run([bash, "-c", 'echo "${EPOCHREALTIME:-}"'], capture_output=True, text=True)
        if probe.stdout.strip():
            return TIMED_HOOK_BASH.format(bash=bash)
    return TIMED_HOOK


def stand_in(server: Path, kept: str, text: Optional[str]) -> None:
    """Put a hook of `text` in place of the server's pre-receive, kept meanwhile as pre-receive.`kept`;
    or (`text` None) put the kept one back."""
    hook, real = server / "hooks" / "pre-receive", server / "hooks" / f"pre-receive.{kept}"
    if text is not None:
        hook.rename(real)
        hook.write_text(text)
        hook.chmod(0o755)
    elif real.exists():
        real.replace(hook)


def timed_hook(server: Path, enabled: bool) -> list[float]:
    """Wrap the server's pre-receive in a timer (enabled), or unwrap it and return the hook's own
    times in seconds, one per push."""
    hooks = server / "hooks"
    hook, real, log = hooks / "pre-receive", hooks / "pre-receive.timed", hooks / "bench-hook-ns"
    if enabled:
        stand_in(server, "timed", timed_hook_script())
        log.unlink(missing_ok=True)
        return []
    real.replace(hook)
    times = [int(line) / 1e9 for line in log.read_text().split()] if log.exists() else []
    log.unlink(missing_ok=True)
    return times


class PushCase(NamedTuple):
    label: str
    commits: int  # commits new to the server
    refspecs: list[str]
    before: dict[str, str]  # the server's refs, exactly, before each push
    # what `git push` is given, when not `refspecs`: thousands of refspecs on the command line cost
    # git's client minutes (it matches each against every ref); a few globs say the same
    push_specs: Optional[list[str]] = None


def set_server_refs(server: Path, refs: dict[str, str]) -> None:
    """Make the server's refs exactly `refs` (its objects stay)."""
    current = git(server, "for-each-ref", "--format=%(refname)").splitlines()
    lines = [f"delete {ref}" for ref in current if ref not in refs]
    lines += [f"update {ref} {sha}" for ref, sha in refs.items()]
    git(server, "update-ref", "--stdin", stdin="".join(f"{x}\n" for x in lines).encode())


def seed_server(client: Path, server: Path, cases: Sequence[PushCase]) -> None:
    """Give the (hook-less) server the objects of every case's starting refs."""
    refs: dict[str, str] = {}
    for case in cases:
        refs.update(case.before)
    specs = [f"+{sha}:{ref}" for ref, sha in refs.items()]
    if specs:
        subprocess.run(
            ["git", "-C", str(client), "push", "-q", "--no-verify", str(server), *specs],
            check=True,
            capture_output=True,
        )


def timed_pushes(client: Path, server: Path, case: PushCase, runs: int, cold: bool = False) -> Result:
    """Median of `runs` pushes (one only, if a push takes over SLOW_PUSH seconds); `cold`: without
    the warm judge."""
    results: list[Run] = []
    env = {**os.environ, **COLD_ENV} if cold else None
    while len(results) < max(1, runs):
        set_server_refs(server, case.before)
        specs = case.push_specs or case.refspecs
        results.append(probe(["git", "push", "-q", "--no-verify", str(server), *specs], client, env=env, timeout=900))
        if results[-1].seconds > SLOW_PUSH:
            break
    return Result(results)


def hook_git_processes(cfg: Config, client: Path, server: Path, case: PushCase) -> str:
    """Run the pre-receive hook by hand on the case's lines, counting its git processes.

    The pushed objects are not on the server (as in a real push, where they sit in
    the quarantine): the client's object store is lent as an alternate."""
    set_server_refs(server, case.before)
    lines = []
    for spec in case.refspecs:
        sha, ref = spec.split(":", 1)
        lines.append(f"{case.before.get(ref, ZERO)} {sha} {ref}\n")
    with tempfile.TemporaryDirectory(prefix="bench-stdin-") as tmp:
        stdin = Path(tmp, "lines")
        stdin.write_text("".join(lines))
        objects = git(client, "rev-parse", "--path-format=absolute", "--git-path", "objects")
        count, run = count_git_processes(
            [*cfg.policy_cmd, "hook", "pre-receive"],
            server,
            timeout=900,
            stdin=stdin,
            extra_env={"GIT_ALTERNATE_OBJECT_DIRECTORIES": objects},
        )
    return str(count.total) if run.rc == 0 else f"{count.total} (rc={run.rc})"


def push_case(
    cfg: Config, client: Path, server: Path, case: PushCase, runs: int, notes: list[str], cold: bool = False
) -> list[str]:
    """Time the push without, then with, the pre-receive hook (`cold`: without the warm judge)."""
    set_hook(server, False)
    plain = timed_pushes(client, server, case, runs)
    set_hook(server, True)
    timed_hook(server, True)
    try:
        hooked = timed_pushes(client, server, case, runs, cold)
    finally:
        inside = timed_hook(server, False)
    alone = fmt_seconds(statistics.median(inside)) if inside else "-"
    if hooked.first.ok:
        outcome, cost = "accepted", fmt_seconds(hooked.median - plain.median)
    else:
        outcome, cost = f"REFUSED (rc={hooked.first.rc}), see note {len(notes) + 1}", "-"
        lines = (hooked.first.stderr.strip() or "(no output)").splitlines()
        notes.append(f"{case.label}: " + "\n    ".join(lines[:5] + lines[-2:]))
    return [
        case.label + (" (cold: BRANCH_POLICY_WARM=off)" if cold else ""),
        f"{case.commits:,}",
        f"{len(case.refspecs):,}",
        fmt_result(plain, 900),
        fmt_result(hooked, 900),
        cost,
        alone,
        hook_git_processes(cfg, client, server, case),
        outcome,
    ]


def make_commit(repo: Path, parent: str, path: str, message: str) -> str:
    """One commit on top of parent changing `path`, made with plumbing (no work tree).

    It is dated an hour after its parent: an older date would make every rev-list
    walk the history down to it (git stops walking by date)."""
    when = int(git(repo, "log", "-1", "--format=%ct", parent)) + 3600
    stamp = f"{when} +0000"
    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        env = dict(
            os.environ, GIT_INDEX_FILE=str(Path(tmp, "index")), **BOT, GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp
        )
        git(repo, "read-tree", parent, env=env)
        old = subprocess.run(
            ["git", "-C", str(repo), "cat-file", "blob", f"{parent}:{path}"], capture_output=True, check=False
        ).stdout
        blob = git(repo, "hash-object", "-w", "--stdin", stdin=old + b"\nbench push\n")
        git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
        tree = git(repo, "write-tree", env=env)
        return git(repo, "commit-tree", tree, "-p", parent, "-m", message, env=env)


def linear_commits(repo: Path, parent: str, n: int) -> str:
    """`n` conventional commits in a row on top of `parent` (one fast-import, cached under
    refs/bench/linear/N): each changes one of 50 source files, an hour after the one before."""
    ref = f"refs/bench/linear/{n}"
    done = subprocess.run(["git", "-C", str(repo), "rev-parse", "-q", "--verify", ref], capture_output=True, text=True)
    if done.returncode == 0:
        return done.stdout.strip()
    when = int(git(repo, "log", "-1", "--format=%ct", parent))
    stream = []
    for i in range(1, n + 1):
        message = f"fix(linear): bench commit {i}\n".encode()
        content = f"# bench commit {i}\nvalue = {i}\n".encode()
        stamp = f"Bench Bot <bench@example.invalid> {when + 3600 * i} +0000"
        stream.append(f"commit {ref}\nmark :{i}\nauthor {stamp}\ncommitter {stamp}\n".encode())
        stream.append(b"data %d\n%s" % (len(message), message))
        stream.append((f"from {parent}\n" if i == 1 else "").encode())
        stream.append(f"M 100644 inline src/linear/part_{i % 50}.py\ndata {len(content)}\n".encode() + content + b"\n")
    subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"], input=b"".join(stream), check=True)
    return git(repo, "rev-parse", ref)


def branch_tips(repo: Path, merged_into: Sequence[str]) -> dict[str, str]:
    """refs/bench/branches/NAME -> {refs/heads/NAME: sha}, all or those merged into a tip."""
    found: dict[str, str] = {}
    tips: Sequence[Optional[str]] = merged_into or [None]
    for tip in tips:
        args = ["for-each-ref", "--format=%(refname) %(objectname)"]
        args += [f"--merged={tip}"] if tip else []
        for line in git(repo, *args, "refs/bench/branches/").splitlines():
            ref, sha = line.split()
            found[ref.replace("refs/bench/branches/", "refs/heads/")] = sha
    return found


def count_new(repo: Path, tips: Sequence[str], known: Sequence[str]) -> int:
    revs = "".join(f"{t}\n" for t in tips) + "".join(f"^{k}\n" for k in known)
    return int(git(repo, "rev-list", "--count", "--stdin", stdin=revs.encode()))


def bulk_cases(cfg: Config, client: Path) -> list[PushCase]:
    """Bootstrap, then about `push_commits` new commits on main, dev and their branches."""
    n = cfg.push_commits
    cp = {f"refs/heads/{b}": git(client, "rev-parse", f"refs/bench/checkpoint/{n}/{b}") for b in ("main", "dev")}
    final = {f"refs/heads/{b}": git(client, "rev-parse", f"refs/bench/{b}") for b in ("main", "dev")}
    old_branches = branch_tips(client, list(cp.values()))
    new_branches = {r: s for r, s in branch_tips(client, []).items() if r not in old_branches}
    at_checkpoint = {**cp, **old_branches}

    def specs(refs: dict[str, str]) -> list[str]:
        return [f"{sha}:{ref}" for ref, sha in refs.items()]

    linear = linear_commits(client, cp["refs/heads/dev"], n)
    return [
        PushCase(f"dev fast-forward by {n:,} new commits (one ref)", n, [f"{linear}:refs/heads/dev"], cp),
        PushCase(
            f"bootstrap: main+dev+{len(old_branches)} branches, empty server",
            count_new(client, list(cp.values()), []),
            specs(at_checkpoint),
            {},
        ),
        PushCase(
            f"bulk: main+dev+{len(new_branches)} new branches in one push",
            count_new(client, list(final.values()), list(at_checkpoint.values())),
            specs({**final, **new_branches}),
            at_checkpoint,
        ),
        PushCase(
            "main+dev, their branches pushed before",
            count_new(client, list(final.values()), [*at_checkpoint.values(), *new_branches.values()]),
            specs(final),
            {**at_checkpoint, **new_branches},
        ),
    ]


def small_cases(cfg: Config, client: Path, size: int) -> list[PushCase]:
    """1-commit pushes into a server that already holds the `size`-commit history."""
    main, dev = (git(client, "rev-parse", f"refs/bench/{b}") for b in ("main", "dev"))
    commit = make_commit(client, dev, "README.md", "docs: note the benchmark push")
    state = {"refs/heads/main": main, "refs/heads/dev": dev}
    return [
        PushCase(f"{size:,}-commit repo: dev fast-forward", 1, [f"{commit}:refs/heads/dev"], state),
        PushCase(
            f"{size:,}-commit repo: new branch feature-bench-push",
            1,
            [f"{commit}:refs/heads/feature-bench-push"],
            state,
        ),
    ]


def bench_push(cfg: Config) -> None:
    print("\n== push latency (local bare server, pre-receive from `policy install --server`) ==")
    if cfg.policy_error:
        print(f"skipped: {cfg.policy_error}")
        return
    rows: list[list[str]] = []
    notes: list[str] = []
    bulk_runs = min(cfg.repeat, 3)
    with tempfile.TemporaryDirectory(prefix="bench-push-") as tmp:
        work: list[tuple[Path, list[PushCase], int]] = []
        client = ensure_repo(cfg, 2 * cfg.push_commits, [cfg.push_commits], branch_refs=True)
        work.append((client, bulk_cases(cfg, client), bulk_runs))
        for size in sorted({min(cfg.sizes), max(cfg.sizes)}):
            client = ensure_repo(cfg, size)
            work.append((client, small_cases(cfg, client, size), cfg.repeat))
        for i, (client, cases, runs) in enumerate(work):
            server = new_server(Path(tmp), f"server-{i}.git")
            seed_server(client, server, cases)
            error = install_server_hook(cfg, server)
            if error:
                print(f"skipped: policy install --server failed: {error}")
                return
            warm_judge(cfg, server, True)
            for case in cases:
                # 1-commit pushes: with the warm judge, then as each push ran before it (cold)
                for cold in (False, True) if case.commits == 1 else (False,):
                    try:
                        rows.append(push_case(cfg, client, server, case, runs, notes, cold))
                    except subprocess.CalledProcessError as exc:
                        detail = exc.stderr.decode(errors="replace").strip()[-200:]
                        rows.append([case.label, "-", "-", "-", "-", "-", "-", "-", f"error: {detail}"])
            warm_judge(cfg, server, False)
    print_table(
        f"push latency, median of {cfg.repeat} (bulk pushes: of {bulk_runs}); "
        "the server's refs are reset before each push",
        ["push", "new commits", "refs", "no hook", "with hook", "hook cost", "hook alone", "hook git procs", "result"],
        rows,
    )
    for i, note in enumerate(notes, 1):
        print(f"  note {i}: {note}")


# -- at scale: a busy server, a mirror push, many new branches -----------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def git_daemon(root: Path, clients: int) -> Iterator[str]:
    """A `git daemon` on loopback serving the bare repositories under `root` with receive-pack
    enabled, on a free port; stopped (its process group killed) when the block ends. Yields
    the URL prefix. At most `clients` + 8 connections, each killed after 300 s."""
    port = free_port()
    cmd = ["git", "daemon", "--reuseaddr", "--listen=127.0.0.1", f"--port={port}", f"--base-path={root}",
           "--export-all", "--enable=receive-pack", f"--max-connections={clients + 8}", "--timeout=300",
           "--informative-errors", str(root)]  # fmt: skip
    log = open(root / "daemon.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(cmd, stdout=log, stderr=log, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while True:  # wait until it listens (bounded)
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log_text = (root / "daemon.log").read_text()[-300:]
                    raise RuntimeError(f"git daemon did not start: {log_text}") from None
                time.sleep(0.05)
        yield f"git://127.0.0.1:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def load_commits(repo: Path, parent: str, prefix: str, count: int) -> list[tuple[str, bool]]:
    """`count` one-commit branches on top of `parent` (one fast-import), alternately valid and
    invalid (a message that is not a conventional commit): [(sha, valid)]. Cached under
    refs/bench/<prefix>/N (the commit ids depend only on parent, prefix and N)."""
    when = int(git(repo, "log", "-1", "--format=%ct", parent))
    stream = []
    for i in range(count):
        valid = i % 2 == 0
        message = (f"feat(load): {prefix} push {i}\n" if valid else f"{prefix} push {i} without a type\n").encode()
        content = f"# {prefix} {i}\n".encode()
        stamp = f"Bench Bot <bench@example.invalid> {when + 3600} +0000"
        stream.append(f"commit refs/bench/{prefix}/{i}\nauthor {stamp}\ncommitter {stamp}\n".encode())
        stream.append(b"data %d\n%s" % (len(message), message))
        stream.append(f"from {parent}\nM 100644 inline load/{prefix}-{i}.txt\ndata {len(content)}\n".encode())
        stream.append(content + b"\n")
    subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet", "--force"], input=b"".join(stream), check=True)
    shas = dict(
        line.split()[::-1]
        for line in git(repo, "for-each-ref", "--format=%(objectname) %(refname)", f"refs/bench/{prefix}/").splitlines()
    )
    return [(shas[f"refs/bench/{prefix}/{i}"], i % 2 == 0) for i in range(count)]


class LoadPhase(NamedTuple):
    seconds: float  # wall time of the whole phase
    pushes: list[Run]
    wrong: int  # verdicts that are not the expected ones
    cpu: Optional[float]  # CPU seconds the whole machine spent in the phase (all processes), if known


def machine_cpu() -> Optional[float]:
    """CPU seconds spent so far by the whole machine, all CPUs, idle and I/O wait left out
    (/proc/stat); None elsewhere."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = handle.readline().split()
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def load_phase(client: Path, url: str, work: list[list[tuple[str, bool, str]]], hooked: bool) -> LoadPhase:
    """Each client (a thread) pushes its commits one by one, each to a new branch; all at once."""
    pushes: list[Run] = []
    wrong = [0]
    lock = threading.Lock()

    def one_client(jobs: list[tuple[str, bool, str]]) -> None:
        for sha, valid, branch in jobs:
            # git push itself, timed here: not through probe(), whose Python per run would be most of
            # the machine's load (and cap git's own throughput at the probes' pace)
            start = time.perf_counter()
            try:
                done = subprocess.run(
                    ["git", "push", "-q", "--no-verify", url, f"{sha}:refs/heads/{branch}"],
                    cwd=client, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                    timeout=300, check=False,
                )  # fmt: skip
                run = Run(done.returncode, time.perf_counter() - start, 0, "", done.stderr.decode(errors="replace"))
            except subprocess.TimeoutExpired:
                run = Run(None, time.perf_counter() - start, 0, "", "timed out")
            expected_ok = valid or not hooked
            with lock:
                pushes.append(run)
                if run.ok != expected_ok:
                    wrong[0] += 1

    threads = [threading.Thread(target=one_client, args=(jobs,)) for jobs in work]
    start, cpu = time.perf_counter(), machine_cpu()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    after = machine_cpu()
    spent = after - cpu if after is not None and cpu is not None else None
    return LoadPhase(time.perf_counter() - start, pushes, wrong[0], spent)


def cold_hook(server: Path, cold: bool) -> None:
    """Make the server's pre-receive judge every push cold (BRANCH_POLICY_WARM=off), or undo it."""
    hook, script = server / "hooks" / "pre-receive", server / "hooks" / "branch-policy-pre-receive"
    if not cold:
        stand_in(server, "warm", None)
        return
    text = (script if script.exists() else hook).read_text()  # the script, where the native client is the hook
    shebang, rest = text.split("\n", 1)
    stand_in(server, "warm", f"{shebang}\nBRANCH_POLICY_WARM=off; export BRANCH_POLICY_WARM\n{rest}")


NULL_HOOK = """#!/bin/sh
# bench: a pre-receive that does nothing but read git's lines (the floor of any hook's latency)
while read -r _; do :; done
"""


def null_hook(server: Path, on: bool) -> None:
    """Put a hook that does nothing in place of the server's pre-receive (on), or put it back."""
    stand_in(server, "real", NULL_HOOK if on else None)


LOAD_MODES = {
    "plain": "without (git alone)",
    "warm": "with the hook (warm judge)",
    "cold": "with the hook, cold (BRANCH_POLICY_WARM=off)",
}


def bench_load(cfg: Config) -> None:
    """`git daemon` on loopback, `--load-clients` clients pushing `--load-pushes` times each (half
    valid, half invalid), without the hook, with it (warm judge) and with it cold, in interleaved rounds."""
    clients, per_client, rounds = cfg.load_clients, cfg.load_pushes, max(1, min(cfg.repeat, 3))
    print(f"\n== load: git daemon on 127.0.0.1, {clients} clients x {per_client} pushes, {rounds} round(s) ==")
    client = ensure_repo(cfg, cfg.load_commits)
    dev = git(client, "rev-parse", "refs/bench/dev")
    main = git(client, "rev-parse", "refs/bench/main")
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        root = Path(tmp)
        server = new_server(root, "load.git")
        # Every phase starts from the same server: main and dev only (the branches a phase pushed
        # are deleted after it: else each phase would advertise, and judge against, all those
        # of the phases before it), and no `git gc --auto` after a push (past its threshold of
        # loose objects, the repack it starts in the background lands on whichever phase runs).
        git(server, "config", "receive.autogc", "false")
        seeded = {"refs/heads/main": main, "refs/heads/dev": dev}
        seed_server(client, server, [PushCase("seed", 0, [], seeded)])
        error = install_server_hook(cfg, server)
        if error:
            print(f"skipped: policy install --server failed: {error}")
            return
        warm_judge(cfg, server, True)
        phases: dict[str, list[LoadPhase]] = {mode: [] for mode in LOAD_MODES}
        hook_under_load: dict[str, list[float]] = {mode: [] for mode in LOAD_MODES}
        wrong: dict[str, int] = {mode: 0 for mode in LOAD_MODES}  # over every phase, timed ones too
        single: list[float] = []
        null_under_load: list[float] = []  # a hook that does nothing: the floor of the hook's figures
        with git_daemon(root, clients) as base:
            url = f"{base}/load.git"
            for r in range(rounds):
                # A hooked mode runs twice: as installed, for the throughput, CPU and push times; then
                # with the hook wrapped in a timer, for the hook's own times (the timer is a bash
                # process per push, about 1.4 ms of CPU: the throughput must not pay for it).
                modes = [("plain", False), ("warm", False), ("warm", True), ("cold", False), ("cold", True)]
                for mode, timed in [*modes, ("null", True)]:
                    hooked = mode not in ("plain", "null")
                    label = f"load-r{r}-{'hook' if mode == 'warm' else mode}{'-timed' if timed else ''}"
                    commits = load_commits(client, dev, label, clients * per_client)
                    work = [
                        [(sha, valid, f"feature-{label}-c{c}-p{p}") for p, (sha, valid) in
                         enumerate(commits[c * per_client : (c + 1) * per_client])]
                        for c in range(clients)
                    ]  # fmt: skip
                    set_hook(server, mode != "plain")
                    cold_hook(server, mode == "cold")
                    null_hook(server, mode == "null")
                    if timed:
                        timed_hook(server, True)
                    try:
                        phase = load_phase(client, url, work, hooked)
                        if mode == "null":
                            continue
                        wrong[mode] += phase.wrong
                        if not timed:
                            phases[mode].append(phase)
                    finally:
                        set_server_refs(server, seeded)
                        if timed:
                            (null_under_load if mode == "null" else hook_under_load[mode]).extend(
                                timed_hook(server, False)
                            )
                        cold_hook(server, False)
                        null_hook(server, False)
            # the same pushes from one client, one at a time: git's own single-client time, then the
            # hook's (warm): under load, every process waits its turn for the CPU, git's own included
            commits = load_commits(client, dev, "load-single-plain", 2 * per_client)
            set_hook(server, False)
            alone_plain = load_phase(client, url, [[(s, v, f"feature-load-single-plain-p{p}") for p, (s, v) in
                                                    enumerate(commits)]], False)  # fmt: skip
            set_server_refs(server, seeded)
            commits = load_commits(client, dev, "load-single", 2 * per_client)
            set_hook(server, True)
            timed_hook(server, True)
            try:
                alone = load_phase(client, url, [[(s, v, f"feature-load-single-p{p}") for p, (s, v) in
                                                  enumerate(commits)]], True)  # fmt: skip
            finally:
                single = timed_hook(server, False)
            set_server_refs(server, seeded)
            commits = load_commits(client, dev, "load-single-null", 2 * per_client)
            null_hook(server, True)
            timed_hook(server, True)
            try:
                load_phase(client, url, [[(s, v, f"feature-load-single-null-p{p}") for p, (s, v) in
                                          enumerate(commits)]], False)  # fmt: skip
            finally:
                null_single = timed_hook(server, False)
                null_hook(server, False)
        warm_judge(cfg, server, False)
    rows = []
    for mode, label in LOAD_MODES.items():
        runs = phases[mode]
        total = sum(len(p.pushes) for p in runs)
        per_s = statistics.median(len(p.pushes) / p.seconds for p in runs)
        latency = statistics.median(r.seconds for p in runs for r in p.pushes)
        cpus = [p.cpu / len(p.pushes) for p in runs if p.cpu is not None and p.pushes]
        rows.append([
            label,
            f"{total:,}",
            f"{per_s:.1f}",
            fmt_seconds(statistics.median(cpus)) if cpus else "-",
            fmt_seconds(latency),
            fmt_seconds(statistics.median(hook_under_load[mode])) if hook_under_load[mode] else "-",
            str(wrong[mode]),
        ])  # fmt: skip

    def cpu_per_push(phase: LoadPhase) -> str:
        return fmt_seconds(phase.cpu / len(phase.pushes)) if phase.cpu is not None and phase.pushes else "-"

    rows.append([
        "one client, one push at a time, without the hook", f"{len(alone_plain.pushes)}",
        f"{len(alone_plain.pushes) / alone_plain.seconds:.1f}", cpu_per_push(alone_plain),
        fmt_seconds(statistics.median(r.seconds for r in alone_plain.pushes)), "-", str(alone_plain.wrong),
    ])  # fmt: skip
    rows.append([
        "one client, one push at a time, with the hook (warm judge)", f"{len(alone.pushes)}",
        f"{len(alone.pushes) / alone.seconds:.1f}", cpu_per_push(alone),
        fmt_seconds(statistics.median(r.seconds for r in alone.pushes)),
        fmt_seconds(statistics.median(single)) if single else "-", str(alone.wrong),
    ])  # fmt: skip
    print_table(
        f"load: {clients} concurrent clients x {per_client} pushes (half valid, half invalid; each a new branch "
        f"with one commit) into a {cfg.load_commits:,}-commit repository; median over {rounds} interleaved round(s)",
        [
            "server",
            "pushes",
            "pushes/s",
            "machine CPU per push",
            "client push median",
            "hook alone median",
            "wrong verdicts",
        ],
        rows,
    )
    rate = {mode: statistics.median(len(p.pushes) / p.seconds for p in phases[mode]) for mode in LOAD_MODES}
    if hook_under_load["warm"] and single:
        print(
            f"  throughput with the hook: {rate['warm'] / rate['plain']:.0%} of git's own (target >= 85%; cold: "
            f"{rate['cold'] / rate['plain']:.0%}); hook median under load "
            f"{statistics.median(hook_under_load['warm']) / statistics.median(single):.1f}x its single-client median "
            "(target <= 2x)"
        )
        if null_under_load and null_single:
            print(
                "  a hook that does nothing (sh reading git's lines): median under load "
                f"{fmt_seconds(statistics.median(null_under_load))}, "
                f"{statistics.median(null_under_load) / statistics.median(null_single):.1f}x its single-client median "
                f"({fmt_seconds(statistics.median(null_single))}): the floor of the ratio above"
            )
        plain_load = statistics.median(r.seconds for p in phases["plain"] for r in p.pushes)
        plain_single = statistics.median(r.seconds for r in alone_plain.pushes)
        print(
            f"  git's own push (no hook) under load: {plain_load / plain_single:.1f}x its single-client median "
            f"(the CPU's queue: {clients} clients on {os.cpu_count()} cpus)"
        )


def many_branches(repo: Path, parent: str, count: int) -> dict[str, str]:
    """`count` branches feature-many-<i> of one commit each on `parent` (one fast-import, cached under
    refs/bench/many/): {refs/heads/feature-many-<i>: sha}."""
    found = branch_tips_under(repo, "refs/bench/many/")
    if len(found) != count:
        git(repo, "update-ref", "--stdin", stdin="".join(f"delete {r}\n" for r in found).encode())
        when = int(git(repo, "log", "-1", "--format=%ct", parent)) + 3600
        stream = []
        for i in range(count):
            message = f"feat(many): branch {i}\n".encode()
            content = f"# branch {i}\n".encode()
            stamp = f"Bench Bot <bench@example.invalid> {when} +0000"
            stream.append(f"commit refs/bench/many/feature-many-{i}\nauthor {stamp}\ncommitter {stamp}\n".encode())
            stream.append(b"data %d\n%s" % (len(message), message))
            stream.append(f"from {parent}\nM 100644 inline many/{i}.txt\ndata {len(content)}\n".encode())
            stream.append(content + b"\n")
        subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"], input=b"".join(stream), check=True)
        found = branch_tips_under(repo, "refs/bench/many/")
    return {ref.replace("refs/bench/many/", "refs/heads/"): sha for ref, sha in found.items()}


def branch_tips_under(repo: Path, prefix: str) -> dict[str, str]:
    lines = git(repo, "for-each-ref", "--format=%(refname) %(objectname)", prefix).splitlines()
    return dict(line.split() for line in lines)


def bench_scale(cfg: Config) -> None:
    """A mirror push of the --scale-commits history with all its branches into an empty server,
    --many-branches new branches of one commit each, and 1-commit pushes into that big repository."""
    print(f"\n== at scale: a mirror push of {cfg.scale_commits:,} commits, {cfg.many_branches:,} new branches ==")
    if cfg.policy_error:
        print(f"skipped: {cfg.policy_error}")
        return
    runs = max(1, min(cfg.repeat, 3))
    client = ensure_repo(cfg, cfg.scale_commits, branch_refs=True)
    main, dev = (git(client, "rev-parse", f"refs/bench/{b}") for b in ("main", "dev"))
    state = {"refs/heads/main": main, "refs/heads/dev": dev}
    branches = branch_tips(client, [])
    # Three ways to fill an empty server: main, dev and the other branches, then the task branches
    # in a second push; and every branch in one push (a first mirror push of an existing project:
    # the push that creates main lets its task branches be judged from main's new tip, I1 of
    # policy/judged.py; refs of a push vouch for a task branch in no other case).
    tasks = {ref: sha for ref, sha in branches.items() if ref.startswith("refs/heads/task-")}
    others = {**state, **{ref: sha for ref, sha in branches.items() if ref not in tasks}}
    many = many_branches(client, dev, cfg.many_branches)
    cases = [
        PushCase(
            f"mirror: main+dev+{len(others) - 2:,} feature branches, empty server",
            count_new(client, list(others.values()), []),
            [f"{sha}:{ref}" for ref, sha in others.items()],
            {},
            ["refs/bench/main:refs/heads/main", "refs/bench/dev:refs/heads/dev"]
            + (["refs/bench/branches/feature-*:refs/heads/feature-*"] if len(others) > 2 else []),
        ),
        PushCase(
            f"then its {len(tasks):,} task branches",
            count_new(client, list(tasks.values()), list(others.values())),
            [f"{sha}:{ref}" for ref, sha in tasks.items()],
            others,
            ["refs/bench/branches/task-*:refs/heads/task-*"],
        ),
        PushCase(  # every branch at once
            f"mirror: all {len(branches) + 2:,} branches in one push, empty server",
            count_new(client, [*others.values(), *tasks.values()], []),
            [f"{sha}:{ref}" for ref, sha in {**others, **tasks}.items()],
            {},
            ["refs/bench/main:refs/heads/main", "refs/bench/dev:refs/heads/dev"]
            + (["refs/bench/branches/*:refs/heads/*"] if branches else []),
        ),
        PushCase(
            f"{len(many):,} new branches of one commit each",
            len(many),
            [f"{sha}:{ref}" for ref, sha in many.items()],
            state,
            ["refs/bench/many/*:refs/heads/*"],
        ),
        *small_cases(cfg, client, cfg.scale_commits),
    ]
    rows: list[list[str]] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        server = new_server(Path(tmp), "scale.git")
        seed_server(client, server, cases)
        error = install_server_hook(cfg, server)
        if error:
            print(f"skipped: policy install --server failed: {error}")
            return
        warm_judge(cfg, server, True)
        for case in cases:
            for cold in (False, True) if case.commits == 1 else (False,):
                try:
                    rows.append(
                        push_case(cfg, client, server, case, runs if case.commits > 1 else cfg.repeat, notes, cold)
                    )
                except subprocess.CalledProcessError as exc:
                    detail = exc.stderr.decode(errors="replace").strip()[-200:]
                    rows.append([case.label, "-", "-", "-", "-", "-", "-", "-", f"error: {detail}"])
                print("  " + " | ".join(rows[-1]), flush=True)  # as it comes: the rows at scale take minutes
        warm_judge(cfg, server, False)
    print_table(
        f"at scale, median of {runs} (1-commit pushes: of {cfg.repeat}); the server's refs are reset before each push; "
        "targets: mirror and many branches under 5 s and 10 s hook alone, a 1-commit push under 50 ms",
        ["push", "new commits", "refs", "no hook", "with hook", "hook cost", "hook alone", "hook git procs", "result"],
        rows,
    )
    for i, note in enumerate(notes, 1):
        print(f"  note {i}: {note}")


# -- hook latency -------------------------------------------------------------------------


def hook_repo(cfg: Config, root: Path) -> Path:
    """A small real repo on a feature branch with one staged change."""
    repo = root / "hooks-repo"
    subprocess.run(
        [sys.executable, str(GENERATE), "--commits", "40", "--seed", str(cfg.seed), str(repo)],
        check=True,
        capture_output=True,
    )
    git(repo, "update-ref", "refs/heads/main", "refs/bench/main")
    git(repo, "update-ref", "refs/heads/dev", "refs/bench/dev")
    git(repo, "checkout", "-q", "-b", "feature-bench-hooks", "refs/bench/dev")
    with open(repo / "src" / "model.py", "a", encoding="utf-8") as handle:
        handle.write("# staged by the benchmark\n")
    git(repo, "add", "src/model.py")
    return repo


def bench_hooks(cfg: Config) -> None:
    print(f"\n== hook latency (median of {cfg.hook_runs} interleaved runs, each a fresh process) ==")
    with tempfile.TemporaryDirectory(prefix="bench-hooks-") as tmp:
        repo = hook_repo(cfg, Path(tmp))
        message = Path(tmp, "COMMIT_EDITMSG")
        message.write_text("feat: x\n")
        commands: list[tuple[str, Optional[list[str]]]] = [
            ("python -c pass", [sys.executable, "-c", "pass"]),
            ("python -c 'import click, yaml'", [sys.executable, "-c", "import click, yaml"]),
            ("python -c 'import git'", [sys.executable, "-c", "import git"] if has_gitpython() else None),
            ("git rev-parse HEAD", ["git", "rev-parse", "HEAD"]),
            ("policy hook commit-msg FILE", [*cfg.policy_cmd, "hook", "commit-msg", str(message)]),
            ("policy hook pre-commit (1 staged file)", [*cfg.policy_cmd, "hook", "pre-commit"]),
        ]
        tool = find_tool(cfg, "conventional-pre-commit")
        commands.append(("conventional-pre-commit FILE", [tool, str(message)] if tool else None))
        # Interleaved rounds, one run of each command per round: a burst of load on the machine
        # then weighs on every command alike, and the ratios stay fair.
        runs: dict[str, list[Run]] = {label: [] for label, cmd in commands if cmd is not None}
        for _ in range(max(1, cfg.hook_runs)):
            for label, cmd in commands:
                if cmd is not None:
                    runs[label].append(probe(cmd, repo, timeout=60))
        peer = runs.get("conventional-pre-commit FILE")
        base = Result(peer).median if peer else None
        rows = []
        for label, cmd in commands:
            if cmd is None:
                rows.append([label, "-", "-", "-", "not installed"])
                continue
            result = Result(runs[label])
            note = "ok" if result.first.ok else f"rc={result.first.rc}: {result.first.tail()}"
            ratio = f"{result.median / base:.2f}x" if base else "-"
            rows.append([label, fmt_result(result, 60), ratio, f"{result.rss_mb:.0f}", note[:200]])
    print_table(
        "hook processes (vs conventional-pre-commit, when installed)",
        ["command", "median", "vs conv.", "peak RSS MB", "result"],
        rows,
    )


# -- main ------------------------------------------------------------------------------------


def compile_policy(cfg: Config) -> str:
    """Byte-compile the policy package the benchmark runs. An installed package has its .pyc files
    (pip writes them); a source checkout run with PYTHONDONTWRITEBYTECODE=1 would compile every module
    on every run, which would add tens of milliseconds to each hook figure."""
    python = cfg.policy_cmd[0] if len(cfg.policy_cmd) > 1 else sys.executable  # `PY -m policy`, or the script
    where = [python, "-c", "import os, policy; print(os.path.dirname(policy.__file__))"]
    # from a neutral directory: `-c` puts the current one first on sys.path (a checkout's policy/)
    done = subprocess.run(where, capture_output=True, text=True, check=False, cwd=tempfile.gettempdir())
    if done.returncode != 0:
        return "policy not importable here: not byte-compiled"
    package = done.stdout.strip()
    subprocess.run([where[0], "-m", "compileall", "-q", package], capture_output=True, check=False)
    flag = "  (PYTHONDONTWRITEBYTECODE is set: compiled once here)" if os.environ.get("PYTHONDONTWRITEBYTECODE") else ""
    return f"byte-compiled {package}{flag}"


def check_policy(cfg: Config) -> Optional[str]:
    run = probe([*cfg.policy_cmd, "--help"], BENCH_DIR, timeout=60)
    return None if run.ok else f"`{shlex.join(cfg.policy_cmd)} --help` failed: {run.tail()}"


def parse_args(argv: Optional[Sequence[str]]) -> Config:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: --sizes 1000 --repeat 3, small push and hook runs"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--policy-cmd",
        default=default_policy_cmd(),
        help="how to run policy (default: the `policy` script beside this python, "
        "as pre-commit runs it; else this python -m policy)",
    )
    parser.add_argument("--cache", type=Path, default=BENCH_DIR / ".cache")
    parser.add_argument("--timeout", type=float, default=900, help="per policy/git run, s")
    parser.add_argument("--peer-timeout", type=float, default=180, help="per peer run, s")
    parser.add_argument("--push-commits", type=int, default=10000)
    parser.add_argument("--hook-runs", type=int, default=31)
    parser.add_argument(
        "--peers-bin",
        type=Path,
        action="append",
        default=[],
        help="extra directory to look for cz, gitlint, commitlint, conventional-pre-commit (repeatable)",
    )
    parser.add_argument(
        "--scale",
        action="store_true",
        help="only the rows at scale: the load row (git daemon), the mirror push, many new branches, "
        "1-commit pushes into the big repository",
    )
    parser.add_argument("--load-clients", type=int, default=20, help="concurrent clients of the load row")
    parser.add_argument("--load-pushes", type=int, default=10, help="pushes per client in the load row")
    parser.add_argument("--load-commits", type=int, default=5000, help="size of the load row's repository")
    parser.add_argument("--scale-commits", type=int, default=50000, help="size of the mirror-pushed history")
    parser.add_argument("--many-branches", type=int, default=10000, help="new branches of one commit each")
    for name in ("peers", "push", "hooks", "load", "scale"):
        parser.add_argument(f"--no-{name}", dest=f"no_{name}", action="store_true", help=f"skip the {name} rows")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.repeat, args.push_commits, args.hook_runs = "1000", 3, 300, 5
        args.peer_timeout = min(args.peer_timeout, 60)
        args.no_load = args.no_scale = not args.scale
    only_scale = args.scale
    return Config(
        sizes=[] if only_scale else [int(s) for s in args.sizes.split(",") if s.strip()],
        repeat=args.repeat,
        seed=args.seed,
        policy_cmd=shlex.split(args.policy_cmd),
        cache=args.cache,
        timeout=args.timeout,
        peer_timeout=args.peer_timeout,
        push_commits=args.push_commits,
        hook_runs=args.hook_runs,
        peers_bin=args.peers_bin,
        peers=not args.no_peers and not only_scale,
        push=not args.no_push and not only_scale,
        hooks=not args.no_hooks and not only_scale,
        scale=not args.no_scale,
        load=not args.no_load,
        load_clients=args.load_clients,
        load_pushes=args.load_pushes,
        load_commits=args.load_commits,
        scale_commits=args.scale_commits,
        many_branches=args.many_branches,
    )


def default_policy_cmd() -> str:
    """The console script installed beside this interpreter: what pre-commit and CI run. `python
    -m policy` would add runpy's start-up to every hook figure."""
    script = Path(sys.executable).parent / "policy"
    return shlex.quote(str(script)) if script.exists() else f"{shlex.quote(sys.executable)} -m policy"


def main(argv: Optional[Sequence[str]] = None) -> int:
    cfg = parse_args(argv)
    cfg.policy_error = check_policy(cfg)
    git_version = git(BENCH_DIR, "--version")
    print(
        f"branch-policy benchmark: sizes {cfg.sizes}, repeat {cfg.repeat}, seed {cfg.seed}, "
        f"{git_version}, python {sys.version.split()[0]}, {os.cpu_count()} cpus"
    )
    print(
        f"policy: {shlex.join(cfg.policy_cmd)}"
        + (f"  -- NOT AVAILABLE: {cfg.policy_error}" if cfg.policy_error else "")
    )
    print(compile_policy(cfg))
    print(load_note())
    prune_cache(cfg)
    figures = [f for f in (guarded(bench_size, cfg, size) for size in cfg.sizes) if f] if cfg.sizes else []
    if cfg.push:
        guarded(bench_push, cfg)
    if cfg.hooks:
        guarded(bench_hooks, cfg)
    if cfg.load:
        guarded(bench_load, cfg)
    if cfg.scale:
        guarded(bench_scale, cfg)
    if figures:
        print_summary(cfg, figures)
    print(load_note())
    return 0


def guarded(section: Callable[..., T], *args: object) -> Optional[T]:
    """Run one section; a crash is printed, and the benchmark goes on."""
    try:
        return section(*args)
    except Exception as exc:  # a benchmark reports a failure, it does not stop
        detail = exc.stderr if isinstance(exc, subprocess.CalledProcessError) else ""
        print(f"\n!! {section.__name__}{args[1:]} failed: {exc!r} {detail!r}"[:2000])
        traceback.print_exc(limit=3, file=sys.stdout)
        return None


def load_note() -> str:
    """Other work on the machine skews the figures: say how busy it was."""
    one, five, _ = os.getloadavg()
    busy = one > (os.cpu_count() or 1) * 0.75
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)" + (
        "  -- the machine is busy: expect noisy figures" if busy else ""
    )


if __name__ == "__main__":
    sys.exit(main())
