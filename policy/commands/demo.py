"""policy demo: the development flow against a real server with the hook installed.

Builds a bare repository (the server) with the pre-receive hook and a clone (the laptop) in a
temporary directory, replays the flow step by step (init, feature, debug run, release, task run,
hotfix; every push accepted), then makes the mistakes the model forbids (every push refused, with
the rule id and a hint). Plain git, no client hooks, so that the server alone is shown doing its
job."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import click

from policy.commands.install import hook_script, write_hook
from policy.config import RULE_IDS

CONFIG = """# tasks/main/config.yaml: the parameters of a run
VERSION: {version}
DEBUG: false
RESUME: null
TRAIN: true
TEST: false
MODEL_PATH: null
RANDOM_SEED: 42
LEARNING_RATE: {lr}
"""


class Demo:
    def __init__(self, root: Path, verbose: bool) -> None:
        self.root = root
        self.work = root / "laptop"
        self.server = root / "server.git"
        self.verbose = verbose
        self.failures = 0
        self.env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "Researcher", "GIT_AUTHOR_EMAIL": "researcher@example.com",
            "GIT_COMMITTER_NAME": "Researcher", "GIT_COMMITTER_EMAIL": "researcher@example.com",
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0",
        }  # fmt: skip
        self.stamp = time.strftime("%Y%m%d-%H%M%S")

    # plumbing ------------------------------------------------------------------------------
    def git(self, *args: str, cwd: Optional[Path] = None) -> str:
        proc = subprocess.run(
            ["git", "-c", "init.defaultBranch=main", "-c", "advice.detachedHead=false", *args],
            cwd=cwd or self.work, env=self.env, capture_output=True, text=True,
        )  # fmt: skip
        if proc.returncode != 0:
            raise click.ClickException(f"demo: git {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
        return proc.stdout.strip()

    def write(self, files: dict[str, str]) -> None:
        for name, content in files.items():
            path = self.work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
            self.git("add", "--", name)

    def commit(self, message: str, files: Optional[dict[str, str]] = None) -> None:
        self.write(files or {})
        self.git("commit", "-q", "--allow-empty", "-m", message)

    def push(self, title: str, *refspecs: str, expect: Optional[str] = None) -> None:
        """Push; `expect` is the rule id the server must refuse it with (None: must accept)."""
        proc = subprocess.run(
            ["git", "push", "origin", *refspecs], cwd=self.work, env=self.env, capture_output=True, text=True
        )
        lines = [line[len("remote: ") :].rstrip() for line in proc.stderr.splitlines() if line.startswith("remote: ")]
        rules = {line.split()[0] for line in lines if line.split()[:1] and line.split()[0] in RULE_IDS}
        command = "git push origin " + " ".join(refspecs)
        if expect is None:
            ok = proc.returncode == 0
            label = "accepted" if ok else "REFUSED (unexpected)"
        else:
            ok = proc.returncode != 0 and expect in rules
            label = "refused " if ok else f"NOT REFUSED BY {expect}"
        click.echo(f"  {label}  {title:<48} {command}")
        if not ok and not lines:
            click.echo(
                f"            git: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}"
            )
        if expect is not None or not ok or self.verbose:
            for line in lines:
                if line.split()[:1] and line.split()[0] in rules:
                    click.echo(f"            server: {line}")
        if not ok:
            self.failures += 1

    # the story -----------------------------------------------------------------------------
    def setup(self) -> None:
        self.git("init", "-q", "--bare", str(self.server), cwd=self.root)
        write_hook(str(self.server / "hooks" / "pre-receive"), hook_script("pre-receive", sys.executable, True), False)
        self.git("clone", "-q", str(self.server), str(self.work), cwd=self.root)

    def happy_path(self) -> None:
        click.echo("the development flow, the way the model wants it: every push accepted")
        self.commit(
            "feat: model, data loader and task layout",
            {"tasks/main/config.yaml": CONFIG.format(version="0.1.0", lr=0.001),
             "tasks/main/train.py": "import yaml\nprint('training with', yaml.safe_load(open('config.yaml')))\n",
             "src/model.py": "class Model:\n    pass\n", "src/data.py": "def load():\n    return []\n",
             "data/train.csv.dvc": "outs:\n- md5: 0f343b0931126a20f133d67c2b018a3b\n  path: train.csv\n"},
        )  # fmt: skip
        self.push("1. create main (the first push)", "main")
        self.git("checkout", "-q", "-b", "dev")
        self.push("1. create dev from main", "dev")
        self.git("checkout", "-q", "-b", "feature-attention")
        self.commit("feat(model): add attention", {"src/attention.py": "def attention(q, k, v):\n    return v\n"})
        self.push("2. a feature branch from dev", "feature-attention")
        self.git("checkout", "-q", "dev")
        self.git("merge", "-q", "--no-ff", "--no-edit", "feature-attention")
        self.push("2. merge the feature into dev", "dev")
        debug = f"debug-0.1.0-{self.stamp}-smoke"
        self.git("checkout", "-q", "-b", debug)
        debug_config = CONFIG.format(version="0.1.0", lr=0.001).replace("DEBUG: false", "DEBUG: true")
        self.commit(
            "chore: debug run on a tiny dataset",
            {f"tasks/{debug}/config.yaml": debug_config, f"tasks/{debug}/task.log": "epoch 1 loss 0.9\n"},
        )
        self.push("3. a debug run (never merged)", debug)
        self.git("checkout", "-q", "main")
        self.git("merge", "-q", "--squash", "dev")
        tip = self.git("rev-parse", "dev")
        self.git("commit", "-q", "-m", f"feat: release attention\n\nSquash-Merge: dev {tip}")
        self.push("4. squash-merge dev into main (with its record)", "main")
        self.commit("chore(release): 0.2.0", {"tasks/main/config.yaml": CONFIG.format(version="0.2.0", lr=0.001)})
        self.git("tag", "-a", "v0.2.0", "-m", "version 0.2.0")
        self.push("4. raise VERSION to 0.2.0 and tag v0.2.0", "main", "v0.2.0")
        self.git("checkout", "-q", "dev")
        self.git("merge", "-q", "--no-edit", "main")
        self.push("4. merge main back into dev", "dev")
        task = f"task-0.2.0-{self.stamp}-lr-0.01"
        self.git("checkout", "-q", "-b", task, "main")
        shutil.copytree(self.work / "tasks" / "main", self.work / "tasks" / task)
        (self.work / "tasks" / task / "config.yaml").write_text(CONFIG.format(version="0.2.0", lr=0.01))
        self.git("add", "tasks")
        self.commit("task: learning rate 0.01")
        self.commit("task: results of the run", {f"tasks/{task}/result.txt": "accuracy 0.91\n"})
        self.push("5. a task run: its own folder only", task)
        self.git("checkout", "-q", "main")
        self.git("merge", "-q", "--no-ff", task, "-m", "task: learning rate 0.01 reaches 0.91")
        self.push("5. merge the task's results into main", "main")
        self.git("checkout", "-q", "-b", "hotfix-nan-loss")
        self.commit("fix: guard the loss against NaN", {"src/model.py": "class Model:\n    eps = 1e-8\n"})
        self.push("hotfix from main", "hotfix-nan-loss")
        self.git("checkout", "-q", "main")
        self.git("merge", "-q", "--no-ff", "hotfix-nan-loss", "-m", "fix: guard the loss against NaN")
        self.git("checkout", "-q", "dev")
        self.git("merge", "-q", "--no-ff", "--no-edit", "hotfix-nan-loss")
        self.push("hotfix merged into main and dev", "main", "dev")

    def mistakes(self) -> None:
        click.echo("\nthe mistakes the model forbids: every push refused, with the rule and a fix")
        task = f"task-0.2.0-{self.stamp}-lr-0.01"
        debug = f"debug-0.1.0-{self.stamp}-smoke"
        cases = [
            ("a commit straight on main", "main-direct-commit", "main", "main",
             lambda: self.commit("fix: quick fix on main", {"src/model.py": "x = 1\n"})),
            ("a task run that edits the model", "task-scope", task, task,
             lambda: self.commit("task: tweak the model", {"src/model.py": "class Model:\n    tweak = 1\n"})),
            ("the debug run merged into dev", "debug-leak", "dev", "dev",
             lambda: self.git("merge", "-q", "--no-ff", "--no-edit", debug)),
            ("a feature merged straight into main", "merge-source", "main", "main", self._shortcut),
            ("a message that is not conventional", "commit-message", "dev", "dev",
             lambda: self.commit("updated stuff", {"src/data.py": "def load():\n    return [1]\n"})),
            ("model weights committed to git", "large-file", "dev", "dev",
             lambda: self.commit("feat: best checkpoint", {"models/best.pt": "weights"})),
            ("a squash that smuggles in a change", "squash-merge", "main", "main", self._smuggle),
            ("moving the released tag", "protected-ref", "main", "+refs/tags/v0.2.0",
             lambda: self.git("tag", "-f", "-a", "v0.2.0", "-m", "moved", "dev")),
            ("a badly named branch", "branch-name", "dev", "dev:refs/heads/my-experiment", lambda: None),
        ]  # fmt: skip
        for title, rule, branch, refspec, act in cases:
            self.git("checkout", "-q", branch)
            before = self.git("rev-parse", "HEAD")
            act()
            self.push(title, refspec, expect=rule)
            self.git("reset", "-q", "--hard", before)
        self.git("tag", "-f", "-a", "v0.2.0", "-m", "version 0.2.0", "origin/main^{/chore.release.: 0.2.0}")

    def _shortcut(self) -> None:
        """A feature branch the server knows, merged into main without going through dev."""
        self.git("checkout", "-q", "-b", "feature-shortcut", "dev")
        self.commit("feat(data): cache the dataset", {"src/cache.py": "CACHE = {}\n"})
        self.git("push", "-q", "origin", "feature-shortcut")
        self.git("checkout", "-q", "main")
        self.git("merge", "-q", "--no-ff", "feature-shortcut", "-m", "feat: Merge branch 'dev' (it is not)")

    def _smuggle(self) -> None:
        self.git("merge", "-q", "--squash", "dev")
        tip = self.git("rev-parse", "dev")
        self.write({"src/backdoor.py": "ENABLED = True\n"})
        self.git("commit", "-q", "-m", f"feat: release\n\nSquash-Merge: dev {tip}")


@click.command()
@click.option(
    "--keep", "keep", metavar="DIR", help="Build the demo in DIR and keep it (default: a temporary directory)."
)
@click.option("-v", "--verbose", is_flag=True, help="Also show the server's output for accepted pushes.")
def demo(keep: Optional[str], verbose: bool) -> None:
    """Replay the development flow against a real bare server with the pre-receive hook installed:
    the happy path is accepted, the forbidden moves are refused with their rule ids."""
    root = Path(keep).resolve() if keep else Path(tempfile.mkdtemp(prefix="branch-policy-demo-"))
    if keep:
        root.mkdir(parents=True, exist_ok=True)
        if any(root.iterdir()):
            raise click.ClickException(f"{root} is not empty")
    started = time.perf_counter()
    run = Demo(root, verbose)
    try:
        run.setup()
        run.happy_path()
        run.mistakes()
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    seconds = time.perf_counter() - started
    where = f"; the repositories are in {root}" if keep else ""
    if run.failures:
        click.echo(f"\n{run.failures} step(s) did not go as the model says ({seconds:.1f} s){where}")
        sys.exit(1)
    click.echo(
        f"\nall as the model says: the server accepted the workflow and refused each mistake ({seconds:.1f} s){where}"
    )
