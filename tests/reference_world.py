"""Random histories for the reference-judge property test, built fast.

The whole case (every commit of every round, every tag object) is planned in Python first, with
the object ids computed as git computes them (a squash's message names a commit id), then written
by ONE `git fast-import` stream into a bare repository; one `cat-file --batch-check` proves that
git holds every planned object under the planned id. Refs are then set with one `update-ref
--stdin`: the server's refs before each push.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

ZERO = "0" * 40
TASK_A = "task-0.1.0-20261126-a"
TASK_B = "task-0.1.0-20261126-b"
TASK_C = "task-0.2.0-20261126-c"  # named for a version main does not have at first
DEBUG = "debug-0.1.0-20261126-d"
BRANCHES = ("main", "dev", "feature-x", "hotfix-y", TASK_A, TASK_B, TASK_C, DEBUG, "Wild_branch", "feature-renamed")

CONFIG = "VERSION: {version}\nDEBUG: false\nRESUME: null\nTRAIN: true\nTEST: false\nMODEL_PATH: null\nRANDOM_SEED: 42\n"


def config(version: str) -> bytes:
    return CONFIG.format(version=version).encode()


BIG = b"".join(b"%05d %s\n" % (i, b"x" * 93) for i in range(6200))  # 620,000 bytes, 6,200 lines
POINTER = b"outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 5000000\n  path: weights.pt\n"
BROKEN_CONFIG = b"VERSION: 0.1.0\nDEBUG: maybe\nRESUME: null\n"

MODE_FILE, MODE_LINK = "100644", "120000"
# path -> (mode, contents it may take); every variant of a file is one line where two sides could
# both change it, so that a Python three-way merge of whole files is git's merge of them
FILES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "src/model.py": (MODE_FILE, (b"model v1\n", b"model v2\n", b"model v3\n")),
    "src/util.py": (MODE_FILE, (b"util v1\n", b"util v2\n")),
    "README.md": (MODE_FILE, (b"# research v1\n", b"# research v2\n")),
    f"tasks/{TASK_A}/metrics.txt": (MODE_FILE, (b"loss 0.5\n", b"loss 0.4\n")),
    f"tasks/{TASK_A}/config.yaml": (MODE_FILE, (config("0.1.0"), BROKEN_CONFIG)),
    f"tasks/{TASK_B}/metrics.txt": (MODE_FILE, (b"acc 0.9\n", b"acc 0.8\n")),
    f"tasks/{TASK_C}/metrics.txt": (MODE_FILE, (b"f1 0.7\n",)),
    f"tasks/{DEBUG}/log": (MODE_FILE, (b"debug log 1\n", b"debug log 2\n")),
    "tasks/main/config.yaml": (
        MODE_FILE,
        (config("0.1.0"), config("0.2.0"), config("0.0.9"), config("0.3.0"), b"VERSION: abc\n"),
    ),
    "model.pt": (MODE_FILE, (b"tiny weights\n",)),
    "data/big.txt": (MODE_FILE, (BIG,)),
    "weights.pt.dvc": (MODE_FILE, (POINTER,)),
    "fake.dvc": (MODE_FILE, (b"not a pointer\n", BIG)),
    ".dvc/cache/ab/cdef": (MODE_FILE, (b"cached bytes\n",)),
    "link": (MODE_LINK, (b"src/model.py", BIG)),
}
UNSAFE = {f"tasks/{TASK_A}/../../src/model.py": (MODE_FILE, (b"sneaky\n",))}
POLICY = {".branch-policy.yaml": (MODE_FILE, (b"rules: [\n",))}

MESSAGES = (
    "feat: add a layer",
    "fix(model): off by one",
    "task: record run results",
    "chore: tidy",
    "wip stuff",
    "",
    "feat: " + "x" * 80,
    "Merge branch 'dev'",
)
MERGE_MESSAGES = ("Merge branch '{src}' into {dst}", "feat: merge {src}", "task: merge {src}", "merged stuff")

Files = dict[str, tuple[str, bytes]]  # path -> (mode, content)


def _sha(kind: str, body: bytes) -> str:
    return hashlib.sha1(b"%s %d\0" % (kind.encode(), len(body)) + body).hexdigest()


def _tree(files: Files, trees: dict[str, bytes]) -> str:
    """The id of the tree holding `files` (nested), every subtree recorded in `trees`."""
    nested: dict[str, object] = {}
    for path, entry in files.items():
        node = nested
        *dirs, name = path.split("/")
        for d in dirs:
            node = node.setdefault(d, {})  # type: ignore[assignment]
        node[name] = entry

    def write(node: dict[str, object]) -> str:
        items = []
        for name, value in node.items():
            if isinstance(value, dict):
                items.append((name + "/", b"40000", name, bytes.fromhex(write(value))))
            else:
                mode, content = value  # type: ignore[misc]
                items.append((name, mode.encode(), name, bytes.fromhex(_sha("blob", content))))
        body = b"".join(b"%s %s\0%s" % (mode, name.encode(), raw) for _, mode, name, raw in sorted(items))
        sha = _sha("tree", body)
        trees[sha] = body
        return sha

    return write(nested)


@dataclass
class Plan:
    """Everything a case writes: blobs, commits, tag objects (ids computed here)."""

    blobs: dict[str, bytes] = field(default_factory=dict)
    commits: dict[str, tuple[Files, tuple[str, ...], str, int]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # commits, parents first
    tags: dict[str, tuple[str, str, str, str, int]] = field(
        default_factory=dict
    )  # sha -> name, object, type, msg, time
    trees: dict[str, bytes] = field(default_factory=dict)
    clock: int = 1_767_225_600

    def files(self, sha: str) -> Files:
        return self.commits[sha][0]

    def parents(self, sha: str) -> tuple[str, ...]:
        return self.commits[sha][1]

    def commit(self, files: Files, parents: Iterable[str], message: str) -> str:
        parents = tuple(parents)
        self.clock += 60
        for _, content in files.values():
            self.blobs[_sha("blob", content)] = content
        tree = _tree(files, self.trees)
        who = f"A U Thor <author@example.com> {self.clock} +0000"
        body = f"tree {tree}\n" + "".join(f"parent {p}\n" for p in parents)
        body += f"author {who}\ncommitter {who}\n\n{message}"
        sha = _sha("commit", body.encode())
        if sha not in self.commits:
            self.commits[sha] = (dict(files), parents, message, self.clock)
            self.order.append(sha)
        return sha

    def tag(self, name: str, obj: str, kind: str, message: str = "release\n") -> str:
        body = f"object {obj}\ntype {kind}\ntag {name}\ntagger A U Thor <author@example.com> {self.clock} +0000\n\n"
        sha = _sha("tag", (body + message).encode())
        self.tags[sha] = (name, obj, kind, message, self.clock)
        return sha

    def tree_of(self, sha: str) -> str:
        return _tree(self.files(sha), self.trees)

    # -- history questions the generator asks (git answers them for the judges) --------------
    def ancestors(self, sha: str) -> set[str]:
        seen, todo = set(), [sha]
        while todo:
            c = todo.pop()
            if c not in seen:
                seen.add(c)
                todo.extend(self.parents(c))
        return seen

    def merge_base(self, a: str, b: str) -> Optional[str]:
        common = self.ancestors(a) & self.ancestors(b)
        best = [c for c in common if not any(c != o and c in self.ancestors(o) for o in common)]
        return max(best, key=lambda c: self.commits[c][3]) if best else None

    def merged(self, ours: str, theirs: str) -> Files:
        """A three-way merge of whole files (conflicts: ours)."""
        base = self.merge_base(ours, theirs)
        b = self.files(base) if base else {}
        o, t = self.files(ours), self.files(theirs)
        out: Files = {}
        for path in sorted(set(b) | set(o) | set(t)):
            bv, ov, tv = b.get(path), o.get(path), t.get(path)
            value = tv if ov == bv else ov
            if value is not None:
                out[path] = value
        return out

    # -- writing ---------------------------------------------------------------------------
    def write(self, repo: Path) -> None:
        """One fast-import stream, then one batch-check that git has every planned id."""
        chunks: list[bytes] = []
        marks: dict[str, int] = {}
        for sha, content in self.blobs.items():
            marks[sha] = len(marks) + 1
            chunks.append(b"blob\nmark :%d\ndata %d\n%s\n" % (marks[sha], len(content), content))
        for sha in self.order:
            files, parents, message, clock = self.commits[sha]
            who = f"A U Thor <author@example.com> {clock} +0000".encode()
            msg = message.encode()
            marks[sha] = len(marks) + 1
            head = b"reset refs/gen/tmp\ncommit refs/gen/tmp\nmark :%d\nauthor %s\ncommitter %s\ndata %d\n%s\n" % (
                marks[sha], who, who, len(msg), msg)  # fmt: skip
            lines = [head]
            if parents:  # by mark: fast-import does not look up the ids of what it wrote itself
                lines.append(b"from :%d\n" % marks[parents[0]])
                lines.extend(b"merge :%d\n" % marks[p] for p in parents[1:])
            lines.append(b"deleteall\n")
            for path, (mode, content) in sorted(files.items()):
                lines.append(b"M %s :%d %s\n" % (mode.encode(), marks[_sha("blob", content)], path.encode()))
            chunks.append(b"".join(lines) + b"\n")
        _run(["git", "fast-import", "--quiet"], cwd=repo, input=b"".join(chunks), check=True)
        # tag objects (a few a case): hash-object writes them, and says their id
        for sha, (name, obj, kind, message, clock) in self.tags.items():
            body = f"object {obj}\ntype {kind}\ntag {name}\ntagger A U Thor <author@example.com> {clock} +0000\n\n"
            proc = _run(["git", "hash-object", "-t", "tag", "-w", "--stdin"], cwd=repo,
                                  input=(body + message).encode(), stdout=subprocess.PIPE, check=True)  # fmt: skip
            assert proc.stdout.decode().strip() == sha, "planned tag id differs from git's"
        wanted = list(self.order)
        asked = "".join(s + "\n" for s in wanted).encode()
        proc = _run(["git", "cat-file", "--batch-check=%(objectname) %(objecttype)"], cwd=repo,
                              input=asked, stdout=subprocess.PIPE, check=True)  # fmt: skip
        got = proc.stdout.decode().split("\n")
        missing = [s for s, line in zip(wanted, got) if not line.endswith(" commit")]
        assert not missing, f"fast-import did not write the planned commits {missing[:3]}"


def _run(*args: Any, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    """subprocess.run for git, replace refs ignored: a case may plant a replace loop on the server."""
    kwargs.setdefault("env", {**os.environ, "GIT_NO_REPLACE_OBJECTS": "1"})
    return subprocess.run(*args, **kwargs)


def set_refs(repo: Path, refs: dict[str, str]) -> None:
    """Make the repository's refs exactly `refs` (one update-ref transaction)."""
    out = _run(["git", "for-each-ref", "--format=%(refname)"], cwd=repo, stdout=subprocess.PIPE, check=True)
    lines = [f"delete {name}\n" for name in out.stdout.decode().split() if name not in refs]
    lines += [f"update {name} {sha}\n" for name, sha in refs.items()]
    _run(["git", "update-ref", "--no-deref", "--stdin"], cwd=repo, input="".join(lines).encode(), check=True)


def init_bare(path: Path) -> Path:
    _run(["git", "init", "-q", "--bare", str(path)], check=True)
    return path
