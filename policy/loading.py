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
from policy.loose import remember

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


def from_objects(
    found: dict[str, Optional[bytes]],
    refs: Sequence[str],
    worktree: Optional[str] = None,
    names: Optional[dict[str, str]] = None,
) -> Policy:
    """The first of `refs` that exists decides: its policy file, or the defaults when it has none.
    No such ref (a repository with no main yet): the work-tree file, else the defaults.
    A damaged repository (the ref's tree, or the policy blob its tree lists, missing) raises
    GitError: that is an internal error, never a reason to judge with the defaults. `names`: how
    to name a ref (a commit id) in messages, where not by its short name."""
    for ref in refs:
        commit = found.get(f"{ref}^{{commit}}")
        if commit is None:
            continue
        name = (names or {}).get(ref) or _short(ref)
        blob = found.get(f"{ref}:{POLICY_FILE}")
        if blob is not None:
            return parse_policy_bytes(blob, f"{name}:{POLICY_FILE}")
        tree = found.get(f"{ref}^{{tree}}")
        if tree is None:
            raise GitError(f"{name}'s tree {_tree_id(commit)} is missing: the repository is damaged (git fsck)")
        listed = _entry(tree, POLICY_FILE.encode(), len(_tree_id(commit)) // 2)
        if listed is not None:
            raise GitError(f"{name}:{POLICY_FILE} (blob {listed}) is missing: the repository is damaged (git fsck)")
        return Policy.defaults()
    if worktree and os.path.exists(os.path.join(worktree, POLICY_FILE)):
        return read_file(os.path.join(worktree, POLICY_FILE))
    return Policy.defaults()


def load(git: Git, refs: Sequence[str], *, explicit: Optional[str] = None, worktree: Optional[str] = None) -> Policy:
    """The policy: an explicit file (or $BRANCH_POLICY_FILE), else as `from_objects` finds it."""
    return read_explicit(explicit) or from_objects(git.read(specs(refs)), refs, worktree)


# The policy on a commit, by the commit's id: a pure function of it (objects are named by their
# contents, and replace refs and grafts are off: policy.gitio), so a process that judges push after
# push (a warm judge's worker) reads and parses main's policy once per commit of main.
_ON_COMMIT: dict[tuple[str, str], Policy] = {}


def load_at(git: Git, refs: Sequence[str], tips: dict[str, str], *, explicit: Optional[str] = None) -> Policy:
    """`load`, where `tips` (full ref name -> commit, as listed before) already says what the first
    of `refs` holds: the policy on that commit, read by its id (what the listing saw, whatever
    moved since), remembered by it."""
    sha = tips.get(refs[0]) if refs else None
    if explicit or os.environ.get(ENV_FILE) or sha is None:
        return load(git, refs, explicit=explicit)
    key = (sha, refs[0])
    policy = _ON_COMMIT.get(key)
    if policy is None:
        found = git.read(specs([sha]))
        policy = from_objects(found, [sha], names={sha: _short(refs[0])})
        tree, blob = found.get(f"{sha}^{{tree}}"), found.get(f"{sha}:{POLICY_FILE}")
        if tree is not None and blob is not None:  # the branches of a push carry it too, mostly
            listed = _entry(tree, POLICY_FILE.encode(), len(sha) // 2)
            if listed is not None:
                remember(listed, blob)
        if len(_ON_COMMIT) >= 16:
            _ON_COMMIT.clear()
        _ON_COMMIT[key] = policy
    return policy


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
    HEAD) and the policy file an admin named (branchpolicy.file), read with one git process, or
    none where this process read them before from config files that are still the same (a warm
    judge's worker: see `_config_key`). Where a key is set several times, the last value wins (as
    `git config --get` says)."""
    key = _config_key(git)
    known = _SETTINGS.get(key) if key is not None else None
    if known is not None:
        return list(known[0]), known[1]
    out = git.try_run("config", "-z", "--get-regexp", r"^branchpolicy\.(mainref|file)$")
    values: dict[str, str] = {}
    for entry in (out or b"").split(b"\0"):
        name, _, value = entry.partition(b"\n")
        if name:
            values[name.decode("utf-8", "surrogateescape").lower()] = value.decode().strip()
    main = values.get("branchpolicy.mainref", "refs/heads/main")
    found = ([main, "HEAD"] if main != "HEAD" else [main]), values.get("branchpolicy.file")
    if key is not None:
        if len(_SETTINGS) >= 8:
            _SETTINGS.clear()
        _SETTINGS[key] = (tuple(found[0]), found[1])
    return found


# The server's settings, by everything `git config` reads them from (_config_key): a process that
# judges push after push (a warm judge sets ACROSS_PUSHES) asks git again only when one of those
# changed. A process that judges one push does not look (finding the system's file is a process).
ACROSS_PUSHES = False
_SETTINGS: dict[tuple[object, ...], tuple[tuple[str, ...], Optional[str]]] = {}
_SYSTEM_FILES: dict[tuple[Optional[str], Optional[str]], Optional[str]] = {}


def _config_key(git: Git) -> Optional[tuple[object, ...]]:
    """What `git config` would answer from, exactly: the environment variables it reads and the
    contents of every file it reads (the repository's, the user's, the system's; a missing one
    too, as None). None (ask git) where that cannot be told for sure: no GIT_DIR (git would
    search for the repository), a worktree, a file that includes others, a file that cannot be
    read, a system file git does not name."""
    env = git.env
    git_dir = env.get("GIT_DIR")
    if not ACROSS_PUSHES or not git_dir or "GIT_COMMON_DIR" in env:
        return None
    git_dir = os.path.join(git.cwd or os.getcwd(), git_dir)
    if os.path.exists(os.path.join(git_dir, "commondir")):
        return None
    system = _system_file(git)
    home, xdg = env.get("HOME"), env.get("XDG_CONFIG_HOME")
    if "GIT_CONFIG_GLOBAL" in env:
        user = [env["GIT_CONFIG_GLOBAL"]]
    else:
        user = [os.path.join(xdg, "git", "config")] if xdg else []
        user += [os.path.join(home, ".config", "git", "config"), os.path.join(home, ".gitconfig")] if home else []
    if system is None or not user:
        return None
    paths = [system, *user, os.path.join(git_dir, "config"), os.path.join(git_dir, "config.worktree")]
    contents: list[object] = [os.path.realpath(git_dir), *sorted((k, v) for k, v in env.items()
                              if k.startswith("GIT_CONFIG") or k in ("HOME", "XDG_CONFIG_HOME"))]  # fmt: skip
    for path in paths:
        try:
            with open(path, "rb") as handle:
                data = handle.read(1 << 20)
        except FileNotFoundError:
            data = None
        except OSError:
            return None
        if data is not None and (b"include" in data.lower() or len(data) >= 1 << 20):
            return None
        contents.append((path, data))
    return tuple(contents)


def _system_file(git: Git) -> Optional[str]:
    """The system-wide config file this git reads, as git itself names it (`git config --system
    --edit` with an editor that only prints the name: asked once per process and setting)."""
    setting = (git.env.get("GIT_CONFIG_SYSTEM"), git.env.get("PATH"))
    if setting not in _SYSTEM_FILES:
        import subprocess

        git.processes += 1
        done = subprocess.run(["git", "config", "--system", "--edit"], cwd=git.cwd,
                              env={**git.env, "GIT_EDITOR": "echo"}, stdin=subprocess.DEVNULL, capture_output=True,
                              check=False)  # fmt: skip
        lines = done.stdout.decode("utf-8", "surrogateescape").splitlines() if done.returncode == 0 else []
        _SYSTEM_FILES[setting] = lines[0] if len(lines) == 1 and os.path.isabs(lines[0]) else None
    return _SYSTEM_FILES[setting]


def client_refs(remote: Optional[str]) -> list[str]:
    refs = [f"refs/remotes/{remote}/main"] if remote else []
    return [*refs, "refs/heads/main"]
