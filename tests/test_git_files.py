"""What the server hook reads from the repository's files instead of asking git (issue 15): the
branches and tags (policy.refsfiles) and the objects a push left loose in its quarantine
(policy.loose). Each is held to git itself on generated inputs, crafted ones included (mis-sorted
and duplicate tree entries, symbolic refs, a ref being written, names that sort otherwise as text
than as bytes): where the reader answers, it answers what git answers; where it cannot be sure, it
says so and git is asked. And through a real push: what a one-commit push costs in git processes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import zlib
from pathlib import Path
from typing import Optional

from conftest import World, seed
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from policy.loose import UNKNOWN, Loose
from policy.refsfiles import read_refs

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def git(repo: Path, *args: str, input: bytes = b"", env: Optional[dict[str, str]] = None) -> bytes:
    done = subprocess.run(["git", *args], cwd=repo, input=input, capture_output=True, env=env, check=True)
    return done.stdout


def bare(tmp_path: Path, name: str) -> Path:
    repo = tmp_path / name
    subprocess.run(["git", "init", "-q", "--bare", str(repo)], check=True)
    return repo


# ----------------------------------------------------------------------------------- refs
NAMES = st.sampled_from(["a", "b", "Z", "é", "a-b", "x.y/z", "a.b/c/d", "v1.0"])
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["set", "set", "delete", "pack", "symref", "lock"]),
        st.sampled_from(["refs/heads/", "refs/tags/", "refs/notes/"]),
        NAMES,
        st.integers(0, 2),
    ),
    max_size=16,
)


@PROPERTY
@given(steps=STEPS)
@example(steps=[("set", "refs/heads/", "a", 0), ("pack", "refs/heads/", "a", 0), ("set", "refs/heads/", "a", 1)])
@example(steps=[("set", "refs/tags/", "v1.0", 0), ("pack", "refs/tags/", "a", 0), ("delete", "refs/tags/", "v1.0", 0)])
@example(
    steps=[("set", "refs/heads/", "x.y/z", 0), ("lock", "refs/heads/", "x.y/z", 1), ("lock", "refs/heads/", "b", 1)]
)
def test_the_refs_read_from_files_are_those_git_lists(tmp_path_factory: object, steps: list) -> None:  # type: ignore[type-arg]
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        repo = bare(Path(tmp), "r.git")
        blob = git(repo, "hash-object", "-w", "--stdin", input=b"x").decode().strip()
        tree = git(repo, "mktree", input=f"100644 blob {blob}\tf\n".encode()).decode().strip()
        commits = [git(repo, "commit-tree", tree, "-m", str(i)).decode().strip() for i in range(3)]
        unusual = False
        for action, prefix, name, which in steps:
            ref = prefix + name
            if action == "set":
                subprocess.run(["git", "update-ref", ref, commits[which]], cwd=repo, capture_output=True)
            elif action == "delete":
                subprocess.run(["git", "update-ref", "-d", ref], cwd=repo, capture_output=True)
            elif action == "pack":
                git(repo, "pack-refs", "--all")
            elif action == "symref" and prefix != "refs/notes/":
                done = subprocess.run(["git", "symbolic-ref", ref, "refs/heads/a"], cwd=repo, capture_output=True)
                unusual |= done.returncode == 0
            elif action == "lock":  # a ref being written by another push right now
                lock = repo / (ref + ".lock")
                if lock.parent.is_dir() or not lock.parent.exists():
                    lock.parent.mkdir(parents=True, exist_ok=True)
                    lock.write_text(commits[which] + "\n")
        prefixes = ("refs/heads/", "refs/tags/")
        listed = git(repo, "for-each-ref", "--format=%(objectname) %(refname)", *prefixes)
        expected = [tuple(line.split(" ", 1)[::-1]) for line in listed.decode("utf-8", "surrogateescape").splitlines()]
        found = read_refs(str(repo), prefixes)
        if found is None:
            assert unusual, "the plain case must be read from the files"
        else:
            assert found == expected


def test_refs_in_another_format_or_a_worktree_are_left_to_git(tmp_path: Path) -> None:
    repo = bare(tmp_path, "r.git")
    assert read_refs(str(repo), ("refs/heads/",)) == []
    (repo / "commondir").write_text("..\n")
    assert read_refs(str(repo), ("refs/heads/",)) is None
    (repo / "commondir").unlink()
    (repo / "reftable").mkdir()
    assert read_refs(str(repo), ("refs/heads/",)) is None


# -------------------------------------------------------------------------------- objects
def loose_object(directory: Path, kind: str, body: bytes) -> str:
    """Write an object loose into `directory` as git writes one; its id."""
    raw = f"{kind} {len(body)}".encode() + b"\0" + body
    oid = hashlib.sha1(raw).hexdigest()
    path = directory / oid[:2] / oid[2:]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zlib.compress(raw))
    return oid


ENTRY_NAMES = st.sampled_from(["a", "b", "a.b", "a-b", "ab", "B", ".branch-policy.yaml", "tasks", "é"])
MODES = st.sampled_from(["100644", "100755", "120000", "40000", "160000", "100664"])


@PROPERTY
@given(
    entries=st.lists(st.tuples(MODES, ENTRY_NAMES, st.integers(0, 3)), max_size=7),
    sub_entries=st.lists(st.tuples(MODES, ENTRY_NAMES, st.integers(0, 3)), max_size=4),
    in_quarantine=st.lists(st.booleans(), min_size=6, max_size=6),
    shuffle=st.booleans(),
    paths=st.lists(st.lists(ENTRY_NAMES, min_size=1, max_size=3).map("/".join), max_size=6),
)
def test_what_a_quarantine_answers_is_what_git_answers(
    entries: list[tuple[str, str, int]],
    sub_entries: list[tuple[str, str, int]],
    in_quarantine: list[bool],
    shuffle: bool,
    paths: list[str],
) -> None:
    """Trees as a push may craft them (any order, duplicates, modes git would not write), their
    objects in the quarantine or already in the repository: every spec the reader answers, git
    answers the same; sizes too."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        repo = bare(Path(tmp), "r.git")
        quarantine = repo / "objects" / "tmp_objdir-incoming-test"
        quarantine.mkdir()
        places = [quarantine if q else repo / "objects" for q in in_quarantine]
        blobs = [loose_object(places[i], "blob", f"blob {i}\n".encode()) for i in range(4)]

        def tree(items: list[tuple[str, str, int]], place: Path, subtree: Optional[str]) -> str:
            body = b""
            rows = items if shuffle else sorted(items, key=lambda e: e[1] + ("/" if e[0] == "40000" else ""))
            for mode, name, which in rows:
                target = subtree if mode == "40000" and subtree else blobs[which]
                body += f"{mode} {name}".encode() + b"\0" + bytes.fromhex(target)
            return loose_object(place, "tree", body)

        sub = tree(sub_entries, places[4], None)
        root = tree(entries, places[5], sub)
        commit_body = f"tree {root}\nauthor A <a@x> 1 +0000\ncommitter A <a@x> 1 +0000\n\nm\n".encode()
        commit = loose_object(quarantine, "commit", commit_body)
        env = {**os.environ, "GIT_OBJECT_DIRECTORY": str(quarantine), "GIT_QUARANTINE_PATH": str(quarantine),
               "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(repo / "objects")}  # fmt: skip
        specs = [commit, f"{commit}^{{commit}}", f"{commit}^{{tree}}", root, *blobs, f"{root}:a"]
        every = [name for _, name, _ in entries] + [
            f"{name}/{sub}" for _, name, _ in entries for _, sub, _ in sub_entries
        ]
        specs += [f"{commit}:{path}" for path in [*paths, *every, ".branch-policy.yaml", "tasks/a", "a/b"]]
        specs = list(dict.fromkeys(specs))
        batch = git(repo, "cat-file", "--batch", input="".join(s + "\n" for s in specs).encode(), env=env)
        answers: dict[str, Optional[bytes]] = {}
        at = 0
        for spec in specs:
            end = batch.index(b"\n", at)
            header = batch[at:end].split()
            if header[-1] == b"missing" or len(header) != 3:
                answers[spec], at = None, end + 1
                continue
            size = int(header[2])
            answers[spec], at = batch[end + 1 : end + 1 + size], end + 1 + size + 1
        reader = Loose(str(quarantine))
        answered = 0
        for spec in specs:
            mine = reader.contents(spec)
            if mine is not UNKNOWN:
                answered += 1
                assert mine == answers[spec], spec
        assert reader.contents(commit) == answers[commit]  # the pushed commit itself: always answered
        for oid in blobs:
            size = reader.size(oid)
            if size is not None:
                assert size == int(git(repo, "cat-file", "-s", oid, env=env))
        for oid, place in zip(blobs, places):
            assert (reader.size(oid) is None) == (place != quarantine)


def test_a_mis_sorted_tree_is_searched_as_git_searches_it(tmp_path: Path) -> None:
    """git stops at the first entry that sorts after the name: "a" after "b" is not found, by git
    nor here; the first of two entries of one name is the one found."""
    quarantine = tmp_path / "q"
    one, two = (loose_object(quarantine, "blob", text) for text in (b"one\n", b"two\n"))
    body = b"".join(f"100644 {name}".encode() + b"\0" + bytes.fromhex(oid) for name, oid in
                    (("b", one), ("a", two), ("c", one), ("c", two)))  # fmt: skip
    root = loose_object(quarantine, "tree", body)
    commit = loose_object(quarantine, "commit", f"tree {root}\n\nm\n".encode())
    reader = Loose(str(quarantine))
    assert [reader.contents(f"{commit}:{name}") for name in ("a", "b", "c", "d")] == [None, b"one\n", b"one\n", None]


def test_a_large_blob_s_size_is_read_from_its_first_bytes(tmp_path: Path) -> None:
    """The size of a 4 MB pushed file (incompressible, or not) without reading all of it."""
    quarantine = tmp_path / "q"
    for body in (os.urandom(4 << 20), b"x" * (4 << 20)):
        oid = loose_object(quarantine, "blob", body)
        assert Loose(str(quarantine)).size(oid) == len(body)


def test_an_object_whose_contents_do_not_match_its_id_is_left_to_git(tmp_path: Path) -> None:
    quarantine = tmp_path / "q"
    oid = loose_object(quarantine, "blob", b"what git wrote\n")
    assert Loose(str(quarantine)).contents(oid) == b"what git wrote\n"
    (quarantine / oid[:2] / oid[2:]).write_bytes(zlib.compress(b"blob 5\0other"))
    assert Loose(str(quarantine)).contents(oid) is UNKNOWN


# ------------------------------------------------------------------------- through a push
COUNTING_HOOK = """#!/bin/sh
# the engine as the server hook runs it, in the push's own quarantine, three times in one process:
# as a process of its own judges one push, then as a warm judge's worker judges push after push.
# Prints how many git processes each judgement started, the verdict, and whether the push's objects
# were found loose in the quarantine.
exec {python} -c '
import io, sys
from policy import loading
from policy.commands.hook import read_updates, _judged
from policy.gitio import Git
updates = read_updates(sys.stdin.buffer)
counts = []
for across in (False, True, True):
    loading.ACROSS_PUSHES = across
    git = Git()
    code = _judged(git, updates, lambda line: None, io.StringIO(), "", False)
    git.close()
    counts.append(git.processes)
with open("{out}", "a") as out:
    out.write(" ".join(map(str, [*counts, code, int(git.loose() is not None)])) + "\\n")
sys.exit(code)
'
"""


def counted_pushes(world: World, name: str) -> list[tuple[int, ...]]:
    """An accepted and a refused push of one new branch each, judged by COUNTING_HOOK: its lines."""
    import sys

    repo = seed(world)
    out = world.root / "processes.txt"
    hook = world.server / "hooks" / "pre-receive"
    hook.write_text(COUNTING_HOOK.format(python=sys.executable, out=out))
    hook.chmod(0o755)
    repo.branch(f"feature-{name}", "dev")
    repo.commit(f"feat: {name}", {f"src/{name}.py": "n = 1\n", "tasks/notes.md": "two blobs\n"})
    assert repo.push(f"feature-{name}").ok
    repo.branch(f"feature-{name}-bad", "dev")
    repo.commit("no type", {"src/bad.py": "bad = 1\n"})
    assert not repo.push(f"feature-{name}-bad").ok
    return [tuple(map(int, line.split())) for line in out.read_text().splitlines()]


def test_a_one_commit_push_starts_one_git_process_in_a_warm_worker(world: World) -> None:
    """A process that judges one push asks git for the server's settings (`git config`), reads the
    policy on main's commit (a cat-file) and walks the push (a log). A warm judge's worker asks
    once which system config file git reads, and then only walks: the settings' files are the
    same, the policy on main's commit is known, the refs come from the files, the new commit's
    tree, policy file and blob sizes from the push's quarantine. Refused or accepted alike."""
    assert counted_pushes(world, "count") == [(3, 3, 1, 0, 1), (3, 3, 1, 1, 1)]


def test_a_push_kept_as_a_pack_asks_git_for_its_objects(world: World) -> None:
    """From receive.unpackLimit objects on, git keeps a push as a pack in the quarantine: nothing is
    tried as a loose file then (a mirror push of 50,000 commits would try each blob in vain), and
    the worker asks one cat-file beside the walk."""
    subprocess.run(["git", "-C", str(world.server), "config", "receive.unpackLimit", "1"], check=True)
    assert counted_pushes(world, "packed") == [(3, 4, 2, 0, 0), (3, 4, 2, 1, 0)]
