"""Shared by every adapter (server hooks, pre-push, CI): which refs count as 'the server's', and
running the engine with the fail-closed error policy."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Optional

from policy.engine import RepoState
from policy.errors import BranchPolicyError
from policy.gitio import Git, RefInfo
from policy.model import ZERO


def server_state(git: Git, refs: Optional[list[RefInfo]] = None) -> RepoState:
    """A bare repository (the server itself): its own branches and tags. `refs`: the repository's
    refs (at least those under refs/heads/ and refs/tags/) when the caller has listed them."""
    branches, tags = {}, {}
    for ref in git.refs("refs/heads/", "refs/tags/") if refs is None else refs:
        if ref.name.startswith("refs/heads/"):
            branches[ref.name[len("refs/heads/") :]] = ref.sha
        elif ref.name.startswith("refs/tags/"):
            tags[ref.name[len("refs/tags/") :]] = ref.sha
    return RepoState(branches, tags)


def clone_state(git: Git, remote: Optional[str], refs: Optional[list[RefInfo]] = None) -> RepoState:
    """A clone: the server's branches as its remote-tracking refs say; local branches only when
    the remote has none (a repository without a server, such as a test or a demo). `refs`: the
    repository's refs (at least those under refs/heads/, refs/tags/ and the remote's) when the
    caller has listed them."""
    prefix = f"refs/remotes/{remote}/" if remote else None
    patterns = ["refs/heads/", "refs/tags/"] + ([prefix] if prefix else [])
    local, remote_branches, tags = {}, {}, {}
    for ref in git.refs(*patterns) if refs is None else refs:
        if prefix and ref.name.startswith(prefix):
            name = ref.name[len(prefix) :]
            if name != "HEAD" and ref.type == "commit":
                remote_branches[name] = ref.sha
        elif ref.name.startswith("refs/heads/"):
            local[ref.name[len("refs/heads/") :]] = ref.sha
        elif ref.name.startswith("refs/tags/"):
            tags[ref.name[len("refs/tags/") :]] = ref.sha
    return RepoState(remote_branches or local, tags)


def default_remote(git: Git) -> Optional[str]:
    return pick_remote(git.run("remote").decode("utf-8", "surrogateescape").split())


def pick_remote(remotes: list[str]) -> Optional[str]:
    """The remote whose branches are the server's: origin, or the only one."""
    return "origin" if "origin" in remotes else (remotes[0] if len(remotes) == 1 else None)


def as_before(state: RepoState, ref: str, old: str) -> RepoState:
    """The state a server had before `ref` moved from `old` (a clone may already show the move)."""
    branches, tags = dict(state.branches), dict(state.tags)
    for prefix, table in (("refs/heads/", branches), ("refs/tags/", tags)):
        if ref.startswith(prefix):
            name = ref[len(prefix) :]
            if old == ZERO:
                table.pop(name, None)
            else:
                table[name] = old
    return RepoState(branches, tags)


class OverBudget(BranchPolicyError):
    """The judgement took longer than the policy's `time_budget_s`."""


@contextlib.contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Raise OverBudget in the block once `seconds` have passed (a server hook must end: a push
    nobody can judge in time is refused, or allowed under on_error: allow). Main thread only;
    elsewhere, and where the platform has no interval timer, the block runs unbounded."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise OverBudget(f"the check took longer than the policy's time budget of {seconds:g} s (time_budget_s)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
