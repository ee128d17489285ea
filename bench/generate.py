"""Generate a deterministic git history in the shape of a deep-learning research repo.

Usage::

    python bench/generate.py --commits N --seed S [--bare] [--checkpoint K ...]
                             [--branch-refs] [--keep-tasks K] OUTDIR

The whole history is streamed into ONE ``git fast-import`` process.  Same
``--commits`` and ``--seed`` give the same commit ids (fixed author, committer
and dates; verify with ``git rev-parse refs/bench/main``).

Shape (the branch model of SPEC.md §2):

* ``main`` and ``dev`` are long-lived.  The first commit (on main) lays out the
  core code and ``tasks/main/`` (``config.yaml``, ``train.py``, ``test.py``).
* A release cycle: ``feature-<slug>`` branches fork from dev, get 1-10 commits
  touching core files, and are merged into dev (``Merge branch 'feature-x' into
  dev``).  ``task-<VERSION>-<YYYYMMDD-HHMMSS>-<slug>`` branches fork from main;
  their first commit copies ``tasks/main/`` to ``tasks/<branch>/``
  (``task: start <slug>``), then 1-5 commits touch only ``tasks/<branch>/``,
  and they are merged into main (``task: merge <branch>``).  Branches of a cycle
  interleave, so merges really diverge.  The cycle ends with a release: main
  merges dev (``feat: release X.Y.Z``), a version bump that changes only the
  ``VERSION:`` line of ``tasks/main/config.yaml``, then dev merges main
  (``Merge branch 'main' into dev``).
* Features of a cycle edit disjoint sets of files, so every merge's tree is the
  one ``git merge`` would make (no conflicts).
* Old task directories are archived: when dev holds more than ``--keep-tasks``
  (default 200) of them, a ``feature-archive-tasks`` branch deletes the oldest
  half (``chore(tasks): archive N finished task runs``).  Without it ``tasks/``
  grows without bound and fast-import slows down quadratically.
* Exactly N commits are generated, all reachable from ``refs/bench/main`` or
  ``refs/bench/dev`` (the last cycle is cut to fit).  Author and committer are
  ``Bench Bot``; dates start on 2018-01-01 and rise 1-60 minutes per commit.

Refs written (nothing under ``refs/heads/``, so ``policy check --ref
refs/heads/main --old 0000... --new $(git rev-parse refs/bench/main)`` sees the
whole history as new, a bootstrap of main):

* ``refs/bench/main``, ``refs/bench/dev``: final tips;
* ``refs/bench/checkpoint/<K>/main`` and ``.../dev``: for each ``--checkpoint
  K``, the tips at the end of the first release cycle at which the history
  holds at least K commits (used by the push benchmark);
* with ``--branch-refs``, ``refs/bench/branches/<name>``: the tip of every
  merged feature and task branch (so a push can carry the merges' sources).

The repository is non-bare by default with an empty work tree and an unborn
``HEAD`` (``refs/heads/main``); ``--bare`` makes a bare one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, NamedTuple

IDENT = b"Bench Bot <bench@example.invalid>"
START_TIME = 1514797200  # 2018-01-01 09:00 UTC: 100k commits end in the past (late 2023)
MAX_ACTIVE_BRANCHES = 4
DEFAULT_KEEP_TASKS = 200
MALLOC_TUNABLES = "glibc.malloc.trim_threshold=268435456:glibc.malloc.top_pad=67108864"
SCRATCH_REF = "refs/bench/scratch/"
TYPES_FOR_FEATURES = ("feat", "fix", "refactor", "docs", "test", "style", "chore")

CORE_FILES: tuple[str, ...] = (
    "README.md",
    "requirements.txt",
    "setup.cfg",
    ".gitignore",
    ".dvcignore",
    "docs/index.md",
    "docs/training.md",
    "docs/tasks.md",
    "docs/data.md",
    "src/__init__.py",
    "src/model.py",
    "src/data.py",
    "src/loss.py",
    "src/train.py",
    "src/evaluate.py",
    "src/metrics.py",
    "src/optim.py",
    "src/config.py",
    "src/layers/__init__.py",
    "src/layers/attention.py",
    "src/layers/conv.py",
    "src/layers/norm.py",
    "src/layers/embedding.py",
    "src/layers/mlp.py",
    "src/data/__init__.py",
    "src/data/augment.py",
    "src/data/sampler.py",
    "src/data/tokenizer.py",
    "src/utils/__init__.py",
    "src/utils/logging.py",
    "src/utils/checkpoint.py",
    "src/utils/distributed.py",
    "src/utils/seed.py",
    "tests/__init__.py",
    "tests/test_model.py",
    "tests/test_data.py",
    "tests/test_loss.py",
    "tests/test_metrics.py",
    "scripts/task_start.sh",
    "scripts/export.py",
)
PACKAGES = (
    "layers",
    "data",
    "utils",
    "models",
    "losses",
    "optim",
    "callbacks",
    "metrics",
    "backbones",
    "heads",
    "transforms",
    "export",
)
SCOPES = {"src": "model", "docs": "docs", "tests": "test", "scripts": "tooling"}
WORDS = (
    "attention",
    "dropout",
    "warmup",
    "scheduler",
    "mixup",
    "cutmix",
    "ema",
    "amp",
    "ddp",
    "tokenizer",
    "sampler",
    "metrics",
    "logging",
    "checkpoint",
    "resnet",
    "vit",
    "lora",
    "adapter",
    "focal",
    "label-smoothing",
    "gradient-clip",
    "profiler",
    "cache",
    "prefetch",
    "augment",
    "norm",
    "embedding",
    "pooling",
    "export",
    "onnx-free",
)
TASK_WORDS = (
    "lr-sweep",
    "seed-ablation",
    "baseline",
    "long-run",
    "small-batch",
    "finetune",
    "resume",
    "eval-only",
    "wd-sweep",
    "warmup-ablation",
    "depth-8",
    "width-512",
)
VERBS = ("add", "support", "speed up", "clean up", "handle", "rework", "document", "simplify", "fix", "tune")
TRAIN_PY = (
    "import yaml\n\nfrom src.train import train\n\n\n"
    "def main() -> None:\n    with open(__file__.replace('train.py', 'config.yaml')) as f:\n"
    "        config = yaml.safe_load(f)\n    train(config)\n\n\nif __name__ == '__main__':\n"
    "    main()\n"
)
TEST_PY = TRAIN_PY.replace("train", "evaluate")


def config_yaml(version: str, learning_rate: str = "0.001", seed: int = 42) -> bytes:
    """The task config of SPEC §2 task-config (same keys as the seed's tasks/main)."""
    return (
        f"VERSION: {version}\nDEBUG: false\nRESUME: null\nTRAIN: true\nTEST: false\n"
        f"MODEL_PATH: null\nRANDOM_SEED: {seed}\nLEARNING_RATE: {learning_rate}\n"
        "BATCH_SIZE: 64\nEPOCHS: 90\n"
    ).encode()


def core_content(path: str, revision: int, rng: random.Random) -> bytes:
    """A plausible small source file, different at each revision."""
    header = f"# {path}\n# part of the research code base (core, versioned)\n\n"
    if path.endswith(".py"):
        name = Path(path).stem.replace("-", "_")
        body = "".join(
            f"def {name}_step_{i}(x, scale={rng.randint(1, 9)}):\n"
            f"    return x * scale + {rng.randint(0, 99)}  # rev {revision}\n\n"
            for i in range(rng.randint(3, 8))
        )
        return (header + f'"""{name} module."""\n\n' + body).encode()
    lines = "".join(f"- item {rng.randint(0, 999)} (rev {revision})\n" for _ in range(rng.randint(4, 12)))
    return (header + lines).encode()


@dataclass
class Branch:
    """A temporary branch being built: its scratch ref and changes since its fork."""

    kind: str  # "feature", "task", or "archive" (a feature deleting old task dirs)
    commits_left: int  # commits still to make, not counting a task's start commit
    name: str = ""
    slug: str = ""
    ref: str = ""
    area: list[str] = field(default_factory=list)  # core files this feature may edit
    new_files: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)  # task dirs an archive deletes
    delta: dict[str, int | None] = field(default_factory=dict)
    tip: int = 0


@dataclass
class Stats:
    commits: int = 0
    merges: int = 0
    blobs: int = 0


class FastImport:
    """Writes a fast-import stream; marks are allocated here."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.next_mark = 1
        self.stats = Stats()

    def _mark(self) -> int:
        mark = self.next_mark
        self.next_mark += 1
        return mark

    def blob(self, content: bytes) -> int:
        mark = self._mark()
        self.out.write(b"blob\nmark :%d\ndata %d\n%s\n" % (mark, len(content), content))
        self.stats.blobs += 1
        return mark

    def commit(
        self,
        ref: str,
        when: int,
        message: str,
        changes: dict[str, int | None],
        from_mark: int | None = None,
        merge_mark: int | None = None,
    ) -> int:
        mark = self._mark()
        msg = message.encode() + b"\n"
        parts = [
            b"commit %s\nmark :%d\n" % (ref.encode(), mark),
            b"author %s %d +0000\ncommitter %s %d +0000\n" % (IDENT, when, IDENT, when),
            b"data %d\n%s" % (len(msg), msg),
        ]
        if from_mark is not None:
            parts.append(b"from :%d\n" % from_mark)
        if merge_mark is not None:
            parts.append(b"merge :%d\n" % merge_mark)
            self.stats.merges += 1
        for path in sorted(changes):
            blob = changes[path]
            if blob is None:
                parts.append(b"D %s\n" % path.encode())
            else:
                parts.append(b"M 100644 :%d %s\n" % (blob, path.encode()))
        parts.append(b"\n")
        self.out.write(b"".join(parts))
        self.stats.commits += 1
        return mark

    def reset(self, ref: str, mark: int | None) -> None:
        """Point ref at mark; with no mark, drop the ref (it is never written)."""
        tail = b"from :%d\n" % mark if mark is not None else b""
        self.out.write(b"reset %s\n%s\n" % (ref.encode(), tail))


class History:
    """The generator's model of the repository: tips, VERSION and pending deltas.

    A merge's tree is the target's tree plus the source's changes since the merge
    base (``delta``); fast-import starts a commit from its first parent's tree, so
    a merge only has to list those changes.
    """

    def __init__(self, fi: FastImport, rng: random.Random, keep_tasks: int, branch_refs: bool) -> None:
        self.fi = fi
        self.rng = rng
        self.keep_tasks = keep_tasks
        self.branch_refs = branch_refs
        self.dev_tasks: list[str] = []  # task dirs dev has, oldest first
        self.main_new_tasks: list[str] = []  # task dirs merged into main since the sync
        self.clock = START_TIME
        self.version = [0, 1, 0]
        self.main_tip = 0
        self.dev_tip = 0
        self.main_delta: dict[str, int | None] = {}  # main's changes dev lacks
        self.dev_delta: dict[str, int | None] = {}  # dev's changes main lacks
        self.task_main: dict[str, int] = {}
        self.core_files: list[str] = list(CORE_FILES)
        self.busy_files: set[str] = set()  # areas of open features: no merge conflicts
        self.revision = 0
        self.name_counts: Counter[str] = Counter()
        self.free_slots = [f"{SCRATCH_REF}{i}" for i in range(MAX_ACTIVE_BRANCHES)]

    # -- helpers ---------------------------------------------------------------
    def tick(self) -> int:
        self.clock += self.rng.randint(60, 3600)
        return self.clock

    def version_str(self) -> str:
        return ".".join(str(part) for part in self.version)

    def unique(self, slug: str) -> str:
        self.name_counts[slug] += 1
        count = self.name_counts[slug]
        return slug if count == 1 else f"{slug}-{count}"

    def core_blob(self, path: str) -> int:
        self.revision += 1
        return self.fi.blob(core_content(path, self.revision, self.rng))

    # -- long-lived branches -----------------------------------------------------
    def initial_commit(self) -> None:
        changes: dict[str, int | None] = {p: self.core_blob(p) for p in CORE_FILES}
        self.task_main = {
            "tasks/main/config.yaml": self.fi.blob(config_yaml(self.version_str())),
            "tasks/main/train.py": self.fi.blob(TRAIN_PY.encode()),
            "tasks/main/test.py": self.fi.blob(TEST_PY.encode()),
        }
        changes.update(self.task_main)
        self.main_tip = self.fi.commit("refs/bench/main", self.tick(), "chore: initial project layout", changes)
        self.dev_tip = self.main_tip
        self.fi.reset("refs/bench/dev", self.dev_tip)

    def release(self) -> None:
        """main merges dev, then a VERSION bump on main."""
        major, minor, patch = self.version
        minor_release = self.rng.random() < 0.3
        self.version = [major, minor + 1, 0] if minor_release else [major, minor, patch + 1]
        new = self.version_str()
        self.main_tip = self.fi.commit(
            "refs/bench/main", self.tick(), f"feat: release {new}", dict(self.dev_delta), merge_mark=self.dev_tip
        )
        self.main_delta.update(self.dev_delta)
        self.dev_delta = {}
        self.bump()

    def bump(self) -> None:
        """A commit changing only VERSION in tasks/main/config.yaml (already raised)."""
        blob = self.fi.blob(config_yaml(self.version_str()))
        self.task_main["tasks/main/config.yaml"] = blob
        change: dict[str, int | None] = {"tasks/main/config.yaml": blob}
        self.main_tip = self.fi.commit(
            "refs/bench/main", self.tick(), f"chore(release): bump VERSION to {self.version_str()}", change
        )
        self.main_delta.update(change)

    def sync_dev(self) -> None:
        """dev merges main after a release."""
        self.dev_tip = self.fi.commit(
            "refs/bench/dev",
            self.tick(),
            "Merge branch 'main' into dev",
            dict(self.main_delta),
            merge_mark=self.main_tip,
        )
        self.main_delta = {}
        self.dev_tasks.extend(self.main_new_tasks)
        self.main_new_tasks = []

    def needs_archive(self) -> bool:
        return 0 < self.keep_tasks < len(self.dev_tasks)

    # -- temporary branches -------------------------------------------------------
    def start(self, branch: Branch) -> None:
        """Name the branch and fork it: features from dev, tasks from main."""
        branch.ref = self.free_slots.pop()
        if branch.kind == "archive":
            branch.slug = self.unique("archive-tasks")
            branch.name = f"feature-{branch.slug}"
            count = len(self.dev_tasks) - self.keep_tasks // 2
            branch.archived, self.dev_tasks = self.dev_tasks[:count], self.dev_tasks[count:]
            branch.tip = self.dev_tip
            self.fi.reset(branch.ref, self.dev_tip)
            return
        if branch.kind == "feature":
            branch.slug = self.unique("-".join(self.rng.sample(WORDS, 2)))
            branch.name = f"feature-{branch.slug}"
            free = [p for p in self.core_files if p not in self.busy_files]
            branch.area = self.rng.sample(free, min(len(free), self.rng.randint(2, 5)))
            self.busy_files.update(branch.area)
            branch.tip = self.dev_tip
            self.fi.reset(branch.ref, self.dev_tip)
            return
        branch.slug = self.unique(self.rng.choice(TASK_WORDS))
        when = self.tick()
        stamp = dt.datetime.fromtimestamp(when, dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
        branch.name = f"task-{self.version_str()}-{stamp}-{branch.slug}"
        copied = {p.replace("tasks/main/", f"tasks/{branch.name}/"): b for p, b in self.task_main.items()}
        branch.delta.update(copied)
        branch.tip = self.fi.commit(
            branch.ref, when, f"task: start {branch.slug}", dict(copied), from_mark=self.main_tip
        )

    def work(self, branch: Branch) -> None:
        if branch.kind == "archive":
            changes: dict[str, int | None] = {f"tasks/{d}": None for d in branch.archived}
        elif branch.kind == "feature":
            changes = self.feature_change(branch)
        else:
            changes = self.task_change(branch)
        branch.delta.update(changes)
        branch.tip = self.fi.commit(branch.ref, self.tick(), self.message(branch, changes), changes)
        branch.commits_left -= 1

    def feature_change(self, branch: Branch) -> dict[str, int | None]:
        if self.rng.random() < 0.03:
            package = self.rng.choice(PACKAGES)
            path = f"src/{package}/{branch.slug.replace('-', '_')}_{self.revision}.py"
            branch.new_files.append(path)  # joins core_files when merged into dev
            branch.area.append(path)
            return {path: self.core_blob(path)}
        paths = self.rng.sample(branch.area, min(len(branch.area), self.rng.randint(1, 3)))
        return {p: self.core_blob(p) for p in paths}

    def task_change(self, branch: Branch) -> dict[str, int | None]:
        base = f"tasks/{branch.name}/"
        roll = self.rng.random()
        if roll < 0.45:
            lr = self.rng.choice(("0.0001", "0.0003", "0.001", "0.003", "0.01"))
            content = config_yaml(branch.name.split("-")[1], lr, self.rng.randint(0, 9999))
            return {base + "config.yaml": self.fi.blob(content)}
        if roll < 0.8:
            run = self.rng.randint(1, 99)
            log = "".join(f"epoch {e} loss {self.rng.random():.4f}\n" for e in range(20))
            return {f"{base}logs/run-{run}.log": self.fi.blob(log.encode())}
        top1, top5 = self.rng.random(), self.rng.random()
        result = f'{{"top1": {top1:.4f}, "top5": {top5:.4f}}}\n'
        return {base + "results.json": self.fi.blob(result.encode())}

    def message(self, branch: Branch, changes: dict[str, int | None]) -> str:
        path = next(iter(changes))
        if branch.kind == "archive":
            return f"chore(tasks): archive {len(changes)} finished task runs (results in DVC)"
        if branch.kind == "task":
            what = {"config.yaml": "tune hyper-parameters", "results.json": "record results"}
            return f"task: {what.get(Path(path).name, 'add training log')}"
        kind = self.rng.choice(TYPES_FOR_FEATURES)
        scope = SCOPES.get(path.split("/")[0], "repo")
        bang = "!" if self.rng.random() < 0.02 else ""
        subject = f"{kind}({scope}){bang}: {self.rng.choice(VERBS)} {branch.slug.replace('-', ' ')}"
        return subject[:72]

    def merge(self, branch: Branch) -> None:
        if branch.kind != "task":
            self.dev_tip = self.fi.commit(
                "refs/bench/dev",
                self.tick(),
                f"Merge branch '{branch.name}' into dev",
                dict(branch.delta),
                merge_mark=branch.tip,
            )
            self.dev_delta.update(branch.delta)
            self.busy_files.difference_update(branch.area)
            self.core_files.extend(branch.new_files)
        else:
            self.main_tip = self.fi.commit(
                "refs/bench/main", self.tick(), f"task: merge {branch.name}", dict(branch.delta), merge_mark=branch.tip
            )
            self.main_delta.update(branch.delta)
            self.main_new_tasks.append(branch.name)
        self.fi.reset(branch.ref, None)
        self.free_slots.append(branch.ref)
        if self.branch_refs:
            self.fi.reset(f"refs/bench/branches/{branch.name}", branch.tip)

    def run_branches(self, branches: list[Branch]) -> None:
        """Interleave the branches' commits; each is merged right after its last one."""
        pending, active = list(branches), []
        while pending or active:
            if pending and (not active or (len(active) < MAX_ACTIVE_BRANCHES and self.rng.random() < 0.3)):
                branch = pending.pop(0)
                self.start(branch)
                active.append(branch)
                continue
            branch = self.rng.choice(active)
            if branch.commits_left > 0:
                self.work(branch)
            else:
                self.merge(branch)
                active.remove(branch)


def branch_cost(branch: Branch) -> int:
    """Commits a branch adds: its own (task start included) plus its merge."""
    return branch.commits_left + (2 if branch.kind == "task" else 1)


def plan_cycle(history: History) -> list[Branch]:
    rng = history.rng
    features = [Branch("feature", rng.randint(1, 10)) for _ in range(rng.randint(2, 8))]
    tasks = [Branch("task", rng.randint(1, 5)) for _ in range(rng.randint(1, 6))]
    archive = [Branch("archive", 1)] if history.needs_archive() else []
    branches = features + tasks + archive
    rng.shuffle(branches)
    return branches


def fill_features(rng: random.Random, budget: int) -> list[Branch]:
    """Features whose costs add up to exactly budget (budget != 1)."""
    branches = []
    while budget >= 2:
        commits = min(rng.randint(1, 10), budget - 1)
        if budget - (commits + 1) == 1:
            commits += 1 if commits + 2 <= budget else -1
        branches.append(Branch("feature", commits))
        budget -= commits + 1
    return branches


def final_cycle(history: History, remaining: int) -> None:
    """Spend exactly `remaining` commits, keeping every commit valid."""
    if remaining == 1:
        history.version[2] += 1
        history.bump()
        return
    if remaining == 2:
        history.run_branches(fill_features(history.rng, 2))
        return
    tail = 2 if remaining - 3 == 1 else 3  # release + bump (+ dev sync)
    history.run_branches(fill_features(history.rng, remaining - tail))
    history.release()
    if tail == 3:
        history.sync_dev()


class Options(NamedTuple):
    commits: int
    seed: int
    keep_tasks: int
    checkpoints: list[int]
    branch_refs: bool = False


def write_checkpoint(history: History, point: int) -> None:
    history.fi.reset(f"refs/bench/checkpoint/{point}/main", history.main_tip)
    history.fi.reset(f"refs/bench/checkpoint/{point}/dev", history.dev_tip)


def generate(fi: FastImport, options: Options) -> None:
    """Stream the whole history: release cycles, then a last cycle cut to fit."""
    history = History(fi, random.Random(options.seed), options.keep_tasks, options.branch_refs)
    history.initial_commit()
    pending_checkpoints = sorted(options.checkpoints)
    while fi.stats.commits < options.commits:
        remaining = options.commits - fi.stats.commits
        branches = plan_cycle(history)
        if sum(branch_cost(b) for b in branches) + 3 > remaining - 3:
            final_cycle(history, remaining)
            break
        history.run_branches(branches)
        history.release()
        history.sync_dev()
        while pending_checkpoints and fi.stats.commits >= pending_checkpoints[0]:
            write_checkpoint(history, pending_checkpoints.pop(0))
    fi.reset("refs/bench/main", history.main_tip)
    fi.reset("refs/bench/dev", history.dev_tip)
    fi.out.write(b"done\n")


def init_repo(outdir: Path, bare: bool) -> Path:
    """Create an empty repository; returns its git dir."""
    if outdir.exists() and any(outdir.iterdir()):
        sys.exit(f"generate.py: {outdir} exists and is not empty")
    cmd = ["git", "init", "-q", "-b", "main"] + (["--bare"] if bare else []) + [str(outdir)]
    subprocess.run(cmd, check=True)
    return outdir if bare else outdir / ".git"


def run_fast_import(git_dir: Path, options: Options) -> Stats:
    cmd = [
        "git",
        "--git-dir",
        str(git_dir),
        "fast-import",
        "--quiet",
        "--done",
        f"--active-branches={MAX_ACTIVE_BRANCHES + 4}",
        "--depth=50",
    ]
    # fast-import frees and re-grows tree buffers per commit; glibc's default
    # trimming then makes it spend half its time in brk(). A large pad avoids it.
    env = dict(os.environ, GLIBC_TUNABLES=MALLOC_TUNABLES)
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, env=env)
    assert proc.stdin is not None
    fi = FastImport(proc.stdin)
    try:
        generate(fi, options)
    finally:
        proc.stdin.close()
        if proc.wait() != 0:
            sys.exit(f"generate.py: git fast-import failed ({proc.returncode})")
    return fi.stats


def count_files(git_dir: Path) -> int:
    out = subprocess.run(
        ["git", "--git-dir", str(git_dir), "ls-tree", "-r", "--name-only", "-z", "refs/bench/main"],
        check=True,
        capture_output=True,
    ).stdout
    return out.count(b"\0")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, required=True, help="exact number of commits")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bare", action="store_true", help="create a bare repository")
    parser.add_argument(
        "--checkpoint",
        type=int,
        action="append",
        default=[],
        help="also write refs/bench/checkpoint/K/{main,dev} (repeatable)",
    )
    parser.add_argument(
        "--keep-tasks",
        type=int,
        default=DEFAULT_KEEP_TASKS,
        help="archive old task dirs (via a feature) when dev has more "
        "than this many; 0 = never (tasks/ then grows without bound "
        "and fast-import slows down quadratically)",
    )
    parser.add_argument(
        "--branch-refs", action="store_true", help="keep each merged feature/task branch as refs/bench/branches/NAME"
    )
    parser.add_argument("outdir", type=Path)
    args = parser.parse_args(argv)
    if args.commits < 1:
        parser.error("--commits must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    git_dir = init_repo(args.outdir, args.bare)
    options = Options(args.commits, args.seed, args.keep_tasks, args.checkpoint, args.branch_refs)
    stats = run_fast_import(git_dir, options)
    seconds = time.perf_counter() - started
    print(
        f"generated {args.outdir}: commits={stats.commits} merges={stats.merges} "
        f"files={count_files(git_dir)} blobs={stats.blobs} seconds={seconds:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
