"""Time `policy tasks` and `policy report` over many runs (figures, not a test).

Usage::

    python bench/results.py [--runs 1000] [--steps 50] [--repeat 3] [--keep DIR]

Builds, with one `git fast-import`, a repository whose main holds `tasks/main/` and whose N task
branches each add `tasks/<branch>/` with a changed config.yaml, a metrics.json (nested keys) and a
charts/loss.csv of `--steps` rows and two series; a third of the runs are merged into main (a
`task:` merge commit each), a third into dev, the rest are open. Then it runs, in that clone,
`policy tasks` (text and json), `policy report --no-pdf` and `policy report` (with the PDF when the
typst package is installed), and prints the median wall time of each and the git processes used.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

CONFIG = (
    "VERSION: 0.1.0\nDEBUG: false\nRESUME: null\nTRAIN: true\nTEST: false\nMODEL_PATH: null\nRANDOM_SEED: {seed}\n"
    "LEARNING_RATE: {lr}\nBATCH: 32\n"
)


def blob(path: str, text: str) -> bytes:
    data = text.encode()
    return f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n"


def commit(ref: str, mark: int, when: int, message: str, parents: list[str], files: list[bytes]) -> bytes:
    msg = message.encode()
    head = f"commit {ref}\nmark :{mark}\ncommitter Bench <bench@example.com> {when} +0000\ndata {len(msg)}\n"
    out = head.encode() + msg + b"\n"
    if parents:
        out += f"from {parents[0]}\n".encode() + b"".join(f"merge {p}\n".encode() for p in parents[1:])
    return out + b"".join(files) + b"\n"


def build(path: str, runs: int, steps: int) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", path], check=True)
    stream = [commit("refs/heads/main", 1, 1767225600, "feat: initial", [],
                     [blob("tasks/main/config.yaml", CONFIG.format(seed=42, lr=0.001)),
                      blob("tasks/main/train.py", "print('train')\n"), blob("src/model.py", "pass\n")])]  # fmt: skip
    stream.append(commit("refs/heads/dev", 2, 1767225601, "chore: dev", [":1"], []))
    mark, main, dev, when = 3, ":1", ":2", 1767225700
    for i in range(runs):
        day, second = divmod(i, 86400)
        name = f"task-0.1.0-2026{1 + day // 28:02d}{1 + day % 28:02d}-{second // 3600:02d}{second // 60 % 60:02d}{second % 60:02d}-run{i}"  # noqa: E501
        lr = round(0.0001 * (1 + i % 50), 6)
        rows = ["step,train_loss,val_loss"] + [
            f"{s},{round(1 / (1 + lr * 100 * s), 5)},{round(1.1 / (1 + lr * 90 * s), 5)}" for s in range(1, steps + 1)
        ]
        folder = f"tasks/{name}"
        files = [
            blob(f"{folder}/config.yaml", CONFIG.format(seed=i % 7, lr=lr)),
            blob(f"{folder}/train.py", "print('train')\n"),
            blob(f"{folder}/metrics.json", json.dumps({"acc": round(1 - 1 / (1 + lr * 100 * steps), 5),
                                                       "val": {"acc": round(0.9 - lr, 5), "loss": 0.1 + lr}})),
            blob(f"{folder}/charts/loss.csv", "\n".join(rows) + "\n"),
        ]  # fmt: skip
        when += 60
        stream.append(commit(f"refs/heads/{name}", mark, when, f"task: run {i}", [":1"], files))
        run_mark = mark
        mark += 1
        if i % 3 < 2:  # merged into main, or into dev: the merge's tree is its parent's plus the run's folder
            into = "main" if i % 3 == 0 else "dev"
            parents = [main if into == "main" else dev, f":{run_mark}"]
            stream.append(commit(f"refs/heads/{into}", mark, when + 1, f"task: merge {name}", parents, files))
            main, dev = (f":{mark}", dev) if into == "main" else (main, f":{mark}")
            mark += 1
    proc = subprocess.run(["git", "-C", path, "fast-import", "--quiet"], input=b"".join(stream))
    if proc.returncode:
        sys.exit("git fast-import failed")
    subprocess.run(["git", "-C", path, "checkout", "-q", "-f", "main"], check=True)


def timed(cwd: str, args: list[str], repeat: int) -> tuple[float, float, str]:
    """Median wall time, median CPU time (user + system, policy and its git processes), output."""
    times, cpus, out = [], [], ""
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "policy", *args], cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if proc.returncode:
            sys.exit(f"policy {' '.join(args)} failed: {proc.stderr.strip()}")
        out = proc.stdout
    return statistics.median(times), statistics.median(cpus), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", metavar="DIR", help="Build the repository here and keep it.")
    args = parser.parse_args()
    root = args.keep or tempfile.mkdtemp(prefix="bench-results-")
    path = os.path.join(root, "repo")
    start = time.perf_counter()
    build(path, args.runs, args.steps)
    print(f"built {args.runs} runs ({args.steps} chart rows each) in {time.perf_counter() - start:.1f} s: {path}")
    try:
        import typst  # noqa: F401

        pdf = True
    except ImportError:
        pdf = False
    cases = [
        ("policy tasks (text)", ["tasks", "--width", "0"]),
        ("policy tasks --format json", ["tasks", "--format", "json"]),
        ("policy tasks --sort acc --where status=open",
         ["tasks", "--width", "0", "--sort", "acc", "--where", "status=open"]),
        ("policy report --no-pdf", ["report", "--no-pdf"]),
    ]  # fmt: skip
    if pdf:
        cases.append(("policy report (with report.pdf)", ["report", "--pdf"]))
    for label, argv in cases:
        seconds, cpu, out = timed(path, argv, args.repeat)
        rows = len(out.splitlines())
        print(f"{label:<45} {seconds:7.2f} s wall  {cpu:7.2f} s cpu   ({rows} lines out)")
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from policy.workflow.listing import collect
    from policy.workflow.workspace import Workspace

    ws = Workspace(path)
    before = ws.git.processes
    found = collect(ws, charts=True)
    statuses = {s: sum(r.status == s for r in found) for s in ("main", "dev", "open")}
    print(f"runs found: {len(found)} {statuses}; git processes for them: {ws.git.processes - before}")
    if pdf:
        size = os.path.getsize(os.path.join(path, "reports", "report.pdf"))
        print(f"report.pdf: {size // 1024} KB")


if __name__ == "__main__":
    main()
