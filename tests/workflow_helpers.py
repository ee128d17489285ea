"""Helpers for the workflow command tests: run the CLI with stdout and stderr apart, push what a
command says to push, and fingerprint a repository to prove a command changed nothing."""

from __future__ import annotations

import os
import subprocess
from typing import NamedTuple

from conftest import Repo, policy_cmd, run


class Out(NamedTuple):
    code: int
    stdout: str
    stderr: str

    def show(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def cli(repo: Repo, *args: str) -> Out:
    proc = subprocess.run(policy_cmd(*args), cwd=repo.path, capture_output=True, text=True, env=dict(os.environ))
    return Out(proc.returncode, proc.stdout, proc.stderr)


def ok(repo: Repo, *args: str) -> str:
    """Run a policy command that must succeed; its stdout, stripped."""
    out = cli(repo, *args)
    assert out.code == 0, out.show()
    return out.stdout.strip()


def pushed(repo: Repo, *refs: str) -> None:
    result = repo.push(*refs)
    assert result.ok, f"push {' '.join(refs)} refused:\n{result.out}"


def told_push(out: Out) -> list[str]:
    """The refs of the `next: git push origin ...` line a command printed."""
    lines = [line for line in out.stderr.splitlines() if line.startswith("next: git push origin ")]
    assert len(lines) == 1, out.show()
    return lines[0][len("next: git push origin ") :].split()


def ok_and_push(repo: Repo, *args: str) -> str:
    """Run a policy command, then the push it says comes next; both must succeed."""
    out = cli(repo, *args)
    assert out.code == 0, out.show()
    refs = told_push(out)
    pushed(repo, *refs)
    return out.stdout.strip()


def fingerprint(repo: Repo) -> tuple[str, str, str, str]:
    """Every ref, HEAD, the status (untracked included) and the branch config: equal before and
    after means the command changed nothing."""
    return (
        repo.git("rev-parse", "--all"),
        repo.git("rev-parse", "--symbolic-full-name", "HEAD"),
        repo.git("status", "--porcelain", "--untracked-files=all"),
        repo.git("config", "--local", "--list"),
    )


def current(repo: Repo) -> str:
    return repo.git("branch", "--show-current")


def on_server(repo: Repo, ref: str) -> str:
    return repo.git("ls-remote", "origin", ref).split("\t")[0]


def is_ancestor(repo: Repo, ancestor: str, descendant: str) -> bool:
    return run(["git", "merge-base", "--is-ancestor", ancestor, descendant], repo.path).ok
