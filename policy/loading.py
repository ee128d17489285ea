"""Where the policy comes from.

Trust: the server reads `.branch-policy.yaml` from main *as it was before the push* (or from a
file the admin names), never from the commits being pushed, so a push cannot loosen the rules
that judge it. Clients and CI read it the same way from their view of the server's main.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Optional

from policy.config import POLICY_FILE, Policy, PolicyError, parse_policy_bytes
from policy.gitio import Git, GitError

ENV_FILE = "BRANCH_POLICY_FILE"


def read_file(path: str) -> Policy:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read the policy file: {exc.strerror}") from None
    return parse_policy_bytes(data, path)


def specs(refs: Sequence[str]) -> list[str]:
    """What `cat-file --batch` must read to find the policy on `refs` (see from_objects): the
    commit, its root tree (to tell "no policy file" from "its blob is missing") and the file."""
    return [spec for ref in refs for spec in (f"{ref}^{{commit}}", f"{ref}^{{tree}}", f"{ref}:{POLICY_FILE}")]


def from_objects(found: dict[str, Optional[bytes]], refs: Sequence[str], worktree: Optional[str] = None) -> Policy:
    """The first of `refs` that exists decides: its policy file, or the defaults when it has none.
    No such ref (a repository with no main yet): the work-tree file, else the defaults.
    A damaged repository (the ref's tree, or the policy blob its tree lists, missing) raises
    GitError: that is an internal error, never a reason to judge with the defaults."""
    for ref in refs:
        commit = found.get(f"{ref}^{{commit}}")
        if commit is None:
            continue
        blob = found.get(f"{ref}:{POLICY_FILE}")
        if blob is not None:
            return parse_policy_bytes(blob, f"{_short(ref)}:{POLICY_FILE}")
        tree = found.get(f"{ref}^{{tree}}")
        if tree is None:
            raise GitError(f"{_short(ref)}'s tree {_tree_id(commit)} is missing: the repository is damaged (git fsck)")
        listed = _entry(tree, POLICY_FILE.encode(), len(_tree_id(commit)) // 2)
        if listed is not None:
            raise GitError(
                f"{_short(ref)}:{POLICY_FILE} (blob {listed}) is missing: the repository is damaged (git fsck)"
            )
        return Policy.defaults()
    if worktree and os.path.exists(os.path.join(worktree, POLICY_FILE)):
        return read_file(os.path.join(worktree, POLICY_FILE))
    return Policy.defaults()


def load(git: Git, refs: Sequence[str], *, explicit: Optional[str] = None, worktree: Optional[str] = None) -> Policy:
    """The policy: an explicit file (or $BRANCH_POLICY_FILE), else as `from_objects` finds it."""
    return read_explicit(explicit) or from_objects(git.read(specs(refs)), refs, worktree)


def read_explicit(explicit: Optional[str]) -> Optional[Policy]:
    """The policy in the file named by `explicit` (or $BRANCH_POLICY_FILE); None when neither is."""
    path = explicit or os.environ.get(ENV_FILE) or None
    return read_file(path) if path else None


def _tree_id(commit: bytes) -> str:
    """The tree a commit object names (its first line: `tree <hex>`)."""
    return commit.split(b"\n", 1)[0].partition(b" ")[2].decode("ascii", "replace")


def _entry(tree: bytes, name: bytes, oid_size: int) -> Optional[str]:
    """The object id of `name` in a raw tree object (`<mode> <name>\\0<oid bytes>` entries), or None."""
    at = 0
    while at < len(tree):
        nul = tree.index(b"\0", at)
        if tree[at:nul].partition(b" ")[2] == name:
            return tree[nul + 1 : nul + 1 + oid_size].hex()
        at = nul + 1 + oid_size
    return None


def _short(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/remotes/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def server_refs(git: Git) -> list[str]:
    return server_settings(git)[0]


def server_policy_file(git: Git) -> Optional[str]:
    return server_settings(git)[1]


def server_settings(git: Git) -> tuple[list[str], Optional[str]]:
    """The server's refs that hold the policy (branchpolicy.mainRef, else refs/heads/main; then
    HEAD) and the policy file an admin named (branchpolicy.file), read with one git process.
    Where a key is set several times, the last value wins (as `git config --get` says)."""
    out = git.try_run("config", "-z", "--get-regexp", r"^branchpolicy\.(mainref|file)$")
    values: dict[str, str] = {}
    for entry in (out or b"").split(b"\0"):
        key, _, value = entry.partition(b"\n")
        if key:
            values[key.decode("utf-8", "surrogateescape").lower()] = value.decode().strip()
    main = values.get("branchpolicy.mainref", "refs/heads/main")
    return ([main, "HEAD"] if main != "HEAD" else [main]), values.get("branchpolicy.file")


def client_refs(remote: Optional[str]) -> list[str]:
    refs = [f"refs/remotes/{remote}/main"] if remote else []
    return [*refs, "refs/heads/main"]
