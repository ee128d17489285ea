"""Steps and plans. A step is printed exactly as it runs: a git step is the argv given to `git`,
nothing added, so `--dry-run` output can be pasted into a shell and does the same thing."""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass, field
from typing import Callable, Optional, Protocol

from policy.errors import BranchPolicyError
from policy.gitio import decode


class StepFailed(BranchPolicyError):
    """A step did not succeed; `output` is what git (or the check) said."""

    def __init__(self, shown: str, output: str) -> None:
        super().__init__(f"{shown}: {output}")
        self.shown = shown
        self.output = output


class Step(Protocol):
    def show(self) -> str: ...
    def run(self, top: str) -> None: ...


@dataclass(frozen=True)
class GitStep:
    """`git <args>`, run in the top directory of the work tree, with the user's own settings and
    hooks (so client hooks, if installed, judge these commits like any other)."""

    args: tuple[str, ...]

    def show(self) -> str:
        return "git " + shlex.join(self.args)

    def run(self, top: str) -> None:
        env = {**os.environ, "GIT_MERGE_AUTOEDIT": "no", "GIT_TERMINAL_PROMPT": "0"}
        proc = subprocess.run(["git", *self.args], cwd=top, env=env, capture_output=True)
        if proc.returncode != 0:
            said = (decode(proc.stderr).strip() or decode(proc.stdout).strip()).splitlines()
            raise StepFailed(self.show(), " / ".join(said[-6:]) or f"exit status {proc.returncode}")


def git(*args: str) -> GitStep:
    return GitStep(tuple(args))


@dataclass(frozen=True)
class WriteFile:
    """Replace a file's bytes (a one-line edit of a YAML file computed up front)."""

    path: str  # relative to the top of the work tree, with /
    content: bytes
    summary: str  # what changes, for the printed plan

    def show(self) -> str:
        return f"edit {shlex.quote(self.path)}: {self.summary}"

    def run(self, top: str) -> None:
        target = os.path.join(top, *self.path.split("/"))
        try:
            with open(target, "wb") as handle:
                handle.write(self.content)
        except OSError as exc:
            raise StepFailed(self.show(), f"cannot write {self.path}: {exc.strerror}") from None


@dataclass(frozen=True)
class Check:
    """A check between steps: `test` returns None when all is well, else what is wrong."""

    summary: str
    test: Callable[[], Optional[str]]

    def show(self) -> str:
        return f"check: {self.summary}"

    def run(self, top: str) -> None:
        problem = self.test()
        if problem:
            raise StepFailed(self.show(), problem)


@dataclass
class Plan:
    """What a command will do.

    `touches`: full refs the steps create or move (put back on failure).
    `push`: full refs the user pushes afterwards; the engine judges them before we call it done.
    `result`: the one line printed on stdout (e.g. the new branch name), also with --dry-run.
    `created`: local branches the plan creates (their `branch.<name>.*` config goes on rollback).
    """

    steps: list[Step] = field(default_factory=list)
    touches: list[str] = field(default_factory=list)
    push: list[str] = field(default_factory=list)
    result: str = ""
    created: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # printed after success (what to do next)

    def add(self, *steps: Step) -> Plan:
        self.steps.extend(steps)
        return self
