"""The only module that runs git. Everything is batched: a push of N commits costs a constant
number of git processes (a few per pushed ref), never one per commit.

Paths and messages are read NUL-separated as bytes and decoded with `surrogateescape`, so any
file name (spaces, newlines, leading dashes, invalid UTF-8) round-trips exactly.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import select
import subprocess
import threading
import weakref
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, islice
from typing import IO, Callable, Generic, NamedTuple, Optional, TypeVar

from policy.errors import BranchPolicyError
from policy.loose import UNKNOWN, Loose
from policy.model import ZERO, Change, Commit, ObjectInfo
from policy.refsfiles import read_refs

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

# Settings that would change what git prints; forced off for every command we parse.
_CONFIG = (
    "-c", "core.quotePath=false",
    "-c", "log.showSignature=false",
    "-c", "log.showRoot=true",
    "-c", "diff.renames=false",
    "-c", "diff.external=",
    "-c", "color.ui=false",
    "-c", "advice.graftFileDeprecated=false",
)  # fmt: skip
_REF_FORMAT = "%(objectname) %(objecttype) %(*objectname) %(refname)"
_LOG_FORMAT = "--format=%x01%H %T %P%x00%B"
# git's stdin, written at once when it is at most this (a pipe holds 64 KiB), else fed from a thread
INLINE_LINES, INLINE_STDIN = 1024, 60 * 1024
_DIFF_FLAGS = ("--raw", "--no-abbrev", "--no-renames", "--no-ext-diff", "--no-textconv", "--no-relative")

STAGED = ("diff", "--cached", "-z", *_DIFF_FLAGS)


BINARY_LINE_BYTES = 64  # hotfix-size: a binary change counts a line per this many bytes

K = TypeVar("K")
R = TypeVar("R")


class GitError(BranchPolicyError):
    """git failed in a way we cannot judge past (a missing object, a broken repository)."""


def decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


_HEX_PAIR = re.compile(r"[0-9a-f]{2}\Z")  # a directory of loose objects


class RefInfo(NamedTuple):
    name: str  # full ref name
    sha: str  # what the ref points at (a tag object for annotated tags)
    type: str  # commit, tag, ... ("" when listed untyped: refs_later(typed=False))
    peeled: str  # the commit an annotated tag points at ("" for non-tags)


class Git:
    """A repository, as seen through batched git plumbing."""

    def __init__(self, cwd: Optional[str] = None, env: Optional[dict[str, str]] = None) -> None:
        self.cwd = cwd
        self.env = dict(os.environ if env is None else env)
        self.env.setdefault("LC_ALL", "C")
        self.env["GIT_TERMINAL_PROMPT"] = "0"
        self.env["GIT_FLUSH"] = "0"  # git flushes per commit into a pipe otherwise: 50k tiny reads per 100k commits
        # What is judged is what the refs really hold: a pushed (or planted) refs/replace/<sha> or an
        # info/grafts file would let git show the judge another commit than the branch stores.
        self.env["GIT_NO_REPLACE_OBJECTS"] = "1"
        self.env["GIT_GRAFT_FILE"] = os.devnull
        self.processes = 0  # how many git processes this object started (the benchmark reads it)
        # One `cat-file --batch-command` for every object question of a hook (the policy, the
        # contents asked during the walks, object types at the end), started on first use and
        # ended with this object; `_lent` while a contents feed reads from it.
        self._objects: Optional[CatFile] = None
        self._closing: list[weakref.finalize] = []  # type: ignore[type-arg]
        self._lent = False
        self._feeding: Optional[_Mux] = None
        self._loose: Optional[Loose] = None
        self._loose_looked = False

    # -- plumbing --------------------------------------------------------------------------
    def _argv(self, args: Sequence[str]) -> list[str]:
        return ["git", "--no-pager", *_CONFIG, *args]

    def run(self, *args: str, input: Optional[bytes] = None, ok: Iterable[int] = (0,)) -> bytes:
        self.processes += 1
        proc = subprocess.run(
            self._argv(args), input=input, cwd=self.cwd, env=self.env,
            capture_output=True,
        )  # fmt: skip
        if proc.returncode not in tuple(ok):
            raise GitError(f"git {' '.join(args[:3])} failed: {decode(proc.stderr).strip()}")
        return proc.stdout

    def try_run(self, *args: str) -> Optional[bytes]:
        try:
            return self.run(*args)
        except GitError:
            return None

    def background(self, *args: str) -> Callable[[], bytes]:
        """Start git now; the returned function waits for it and gives its output (so that two
        short git processes of a hook run at the same time)."""
        self.processes += 1
        proc = subprocess.Popen(
            self._argv(args), cwd=self.cwd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )

        def result() -> bytes:
            out, err = proc.communicate()
            if proc.returncode != 0:
                raise GitError(f"git {' '.join(args[:3])} failed: {decode(err).strip()}")
            return out

        return result

    def _stream(self, args: Sequence[str], stdin_lines: Iterable[str]) -> Iterator[bytes]:
        """Start git now (so that it works while the caller does something else), feed it lines
        on stdin, and return an iterator over its stdout in chunks. Lines that fit in the pipe
        are written at once; more are fed from a thread. Its stderr is read along with stdout."""
        self.processes += 1
        rest = iter(stdin_lines)
        head = list(islice(rest, INLINE_LINES))
        payload = encode("\n".join(head) + "\n") if head else b""
        proc = subprocess.Popen(
            self._argv(args), cwd=self.cwd, env=self.env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdin and proc.stdout and proc.stderr
        _widen(proc.stdout)
        writer = None
        if len(head) < INLINE_LINES and len(payload) <= INLINE_STDIN:  # all of it, and a pipe holds it
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.write(payload)
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
        else:
            writer = threading.Thread(target=_feed, args=(proc.stdin, chain(head, rest)), daemon=True)
            writer.start()
        return _chunks(proc, writer, args)

    # -- repository ------------------------------------------------------------------------
    def git_dir(self) -> str:
        return decode(self.run("rev-parse", "--absolute-git-dir")).strip()

    def is_bare(self) -> bool:
        return self.run("rev-parse", "--is-bare-repository").strip() == b"true"

    def refs(self, *patterns: str) -> list[RefInfo]:
        return self.refs_later(*patterns)()

    def refs_later(self, *patterns: str, typed: bool = True) -> Callable[[], list[RefInfo]]:
        """Start `for-each-ref` now; the returned function waits for it and gives the refs.
        Not `typed`: names and ids only (no type, nothing peeled), which git lists without reading
        a single object (a server's 2,000 branches: about 13 ms less); in a hook (GIT_DIR set, as git
        sets it for hooks), read from the repository's files without git where they are plain
        (policy.refsfiles)."""
        git_dir = self.env.get("GIT_DIR")
        if not typed and git_dir and "GIT_COMMON_DIR" not in self.env:
            listed = read_refs(os.path.join(self.cwd or os.getcwd(), git_dir), patterns)
            if listed is not None:
                found = [RefInfo(name, sha, "", "") for name, sha in listed]
                return lambda: found
        started = self.background("for-each-ref", f"--format={_REF_FORMAT if typed else '%(objectname) %(refname)'}",
                                   *patterns)  # fmt: skip

        def refs() -> list[RefInfo]:
            found = []
            for line in started().decode("utf-8", "surrogateescape").splitlines():
                if typed:
                    sha, kind, peeled, name = line.split(" ", 3)
                else:
                    (sha, name), kind, peeled = line.split(" ", 1), "", ""
                found.append(RefInfo(name, sha, kind, peeled))
            return found

        return refs

    def resolve(self, rev: str) -> Optional[str]:
        out = self.try_run("rev-parse", "--verify", "--quiet", "--end-of-options", rev + "^{object}")
        return decode(out).strip() if out else None

    # -- history -----------------------------------------------------------------------------
    def walk(
        self, include: Sequence[str], exclude: Sequence[str], paths: bool = True, topo: bool = False
    ) -> Iterator[Commit]:
        """Every commit reachable from `include` and not from `exclude`, newest first, streamed
        (`topo`: every commit after all of its children).

        Merges carry the paths that differ from every parent (a combined diff): what the merge
        itself changed, beyond what its parents brought.
        """
        args = ["log", "-z", "--stdin", _LOG_FORMAT, *(["--topo-order"] if topo else [])]
        if paths:
            args += [*_DIFF_FLAGS, "--diff-merges=dense-combined"]
        lines = [*include, *("^" + sha for sha in exclude)]
        return _parse_log(self._stream(args, lines), paths)

    def commits(self, shas: Sequence[str], paths: bool = True) -> Iterator[Commit]:
        """The given commits only (no walk), in the given order."""
        if not shas:
            return iter(())
        args = ["log", "-z", "--stdin", "--no-walk=unsorted", _LOG_FORMAT]
        if paths:
            args += [*_DIFF_FLAGS, "--diff-merges=dense-combined"]
        return _parse_log(self._stream(args, shas), paths)

    def first_parent(self, include: Sequence[str], exclude: Sequence[str]) -> list[tuple[str, ...]]:
        """(sha, parent, ...) of each commit on the first-parent line, newest first."""
        lines = [*include, *("^" + sha for sha in exclude)]
        out = b"".join(self._stream(["rev-list", "--first-parent", "--parents", "--stdin"], lines))
        return [tuple(line.split()) for line in out.decode().splitlines()]

    def reached_from(self, include: Sequence[str], exclude: Sequence[str]) -> dict[str, str]:
        """Every commit reachable from `include` and not from `exclude`, with the tip of `include`
        it was reached from (one of them, where several reach it)."""
        if not include:
            return {}
        lines = [*include, *("^" + sha for sha in exclude)]
        out = b"".join(self._stream(["log", "--stdin", "--source", "--format=%H %S"], lines))
        return dict(line.split(" ", 1) for line in out.decode().splitlines() if " " in line)

    def reachable(self, candidates: Iterable[str], tips: Sequence[str]) -> set[str]:
        """Which of `candidates` are reachable from (contained in) any of `tips`, for many at once.

        A candidate returned is contained. One not returned may still be: rev-list's walk stops by
        commit date, and commits dated before their parents (clock skew) can end it early. So a
        refusal that rests on "not contained" is confirmed with `contained` or `is_ancestor`."""
        return self.reachable_each([(candidates, tips)])[0]

    def reachable_each(self, queries: Sequence[tuple[Iterable[str], Sequence[str]]]) -> list[set[str]]:
        """`reachable` for several (candidates, tips) queries: their rev-lists run side by side."""
        started = []
        for candidates, tips in queries:
            wanted = set(candidates)
            lines = [*wanted, *("^" + tip for tip in tips)]
            started.append((wanted, self._stream(["rev-list", "--stdin"], lines) if wanted and tips else None))
        return [wanted - _listed(chunks, wanted) if chunks is not None else set() for wanted, chunks in started]

    def on_lines(self, queries: Sequence[tuple[Iterable[str], Sequence[str]]]) -> list[set[str]]:
        """For each (candidates, tips): the candidates on the first-parent line of one of the tips
        (exactly: a walk of those lines, whatever the commit dates). Side by side, as `reachable_each`."""
        started = []
        for candidates, tips in queries:
            wanted = set(candidates)
            lines = list(tips)
            run = wanted and tips
            started.append((wanted, self._stream(["rev-list", "--first-parent", "--stdin"], lines) if run else None))
        return [_listed(chunks, wanted) if chunks is not None else set() for wanted, chunks in started]

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """Exactly, whatever the commit dates (`merge-base --is-ancestor`)."""
        return self.ancestry([(ancestor, descendant)])[(ancestor, descendant)]()

    def ancestry(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Callable[[], bool]]:
        """`is_ancestor` for each (ancestor, descendant) pair, its merge-base started now, all side
        by side; each answer waits for its own process."""
        answers: dict[tuple[str, str], Callable[[], bool]] = {}
        for ancestor, descendant in dict.fromkeys(pairs):
            self.processes += 1
            proc = subprocess.Popen(
                self._argv(["merge-base", "--is-ancestor", ancestor, descendant]),
                cwd=self.cwd, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )  # fmt: skip
            answers[(ancestor, descendant)] = _ancestor_answer(proc)
        return answers

    def contained(self, candidate: str, tips: Sequence[str]) -> bool:
        """Exactly: whether any of `tips` contains `candidate`. The merge base of the candidate and
        a (hypothetical) merge of all the tips is the candidate itself iff one of them has it."""
        if not tips:
            return False
        out = self.run("merge-base", "--all", candidate, *tips, ok=(0, 1))
        return candidate in out.decode().split()

    def staged(self, started: Optional[Callable[[], bytes]] = None) -> list[Change]:
        """The index against HEAD (or against nothing on an unborn branch): the commit to be.
        `started`: the same command begun earlier with `start_staged`."""
        out = started() if started else self.run(*STAGED)
        tokens = iter(out.split(b"\0"))
        return [_change(token, next(tokens, b"")) for token in tokens if token.startswith(b":")]

    def start_staged(self) -> Callable[[], bytes]:
        return self.background(*STAGED)

    def merge_tree(self, ours: str, theirs: str) -> tuple[Optional[str], bool]:
        """(tree of the real merge, clean?) via `git merge-tree --write-tree` (git >= 2.38)."""
        self.processes += 1
        proc = subprocess.run(
            self._argv(["merge-tree", "--write-tree", "--no-messages", ours, theirs]),
            cwd=self.cwd, env=self.env, capture_output=True,
        )  # fmt: skip
        if proc.returncode not in (0, 1):
            if b"unrelated histories" in proc.stderr:  # git merge would refuse them too
                return None, False
            raise GitError(f"git merge-tree failed: {decode(proc.stderr).strip()}")
        first = proc.stdout.split(b"\n", 1)[0].strip().decode()
        return (first or None), proc.returncode == 0

    def real_merges(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[Optional[str], list[str]]]:
        """What `git merge` would make of each (ours, theirs): (its tree, the paths that conflicted);
        no tree for unrelated histories, which git merge refuses. The merge-trees run side by side,
        a few at a time (a push of main over 20 releases asks 20)."""
        wanted = list(dict.fromkeys(pairs))
        answers: dict[tuple[str, str], tuple[Optional[str], list[str]]] = {}
        for start in range(0, len(wanted), 8):
            started = []
            for ours, theirs in wanted[start : start + 8]:
                self.processes += 1
                argv = ["merge-tree", "--write-tree", "--name-only", "--no-messages", "-z", ours, theirs]
                started.append(((ours, theirs), subprocess.Popen(
                    self._argv(argv), cwd=self.cwd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                )))  # fmt: skip
            for pair, proc in started:
                out, err = proc.communicate()
                if proc.returncode not in (0, 1):
                    if b"unrelated histories" in err:
                        answers[pair] = (None, [])
                        continue
                    raise GitError(f"git merge-tree failed: {decode(err).strip()}")
                tree, *paths = out.split(b"\0")
                answers[pair] = ((decode(tree).strip() or None), [decode(p) for p in paths if p])
        return answers

    def tree_diff(self, a: str, b: str) -> list[str]:
        """Paths whose entries differ between two trees (or commits), recursively."""
        out = self.run("diff-tree", "-r", "-z", "--name-only", "--no-renames", a, b)
        return [decode(p) for p in out.split(b"\0") if p]

    def changed_lines(self, base: str, tip: str) -> Optional[int]:
        """Lines added + deleted between `base...tip` (merge base to tip); None when they share no
        history. A file git calls binary (one NUL byte is enough) counts its old and new contents
        whole: their lines, or a line per BINARY_LINE_BYTES, whichever is more (a 700-line rewrite
        with one NUL byte is never 0 lines)."""
        self.processes += 1
        proc = subprocess.run(
            self._argv(["diff", "--raw", "--numstat", "-z", "--no-abbrev", "--no-renames", "--no-ext-diff",
                        "--no-textconv", f"{base}...{tip}", "--"]),
            cwd=self.cwd, env=self.env, capture_output=True,
        )  # fmt: skip
        if proc.returncode != 0:
            if b"no merge base" in proc.stderr:
                return None
            raise GitError(f"git diff --numstat failed: {decode(proc.stderr).strip()}")
        tokens = proc.stdout.split(b"\0")
        blobs: dict[bytes, tuple[str, str]] = {}  # path -> old, new blob
        total, binary = 0, []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token.startswith(b":"):
                fields = token.split()
                blobs[tokens[i + 1]] = (fields[2].decode(), fields[3].decode())
                i += 2
                continue
            counts = token.split(b"\t", 2)
            if len(counts) == 3:
                if counts[0].isdigit() and counts[1].isdigit():
                    total += int(counts[0]) + int(counts[1])
                else:
                    binary.append(counts[2])
            i += 1
        shas = [sha for path in binary for sha in blobs.get(path, ()) if sha.strip("0")]
        if not shas:
            return total
        with self.session() as objects:
            sizes = objects.sizes(shas)
            small = objects.read(sha for sha in shas if sizes.get(sha, 0) <= 1 << 20)
        for sha in shas:
            content = small.get(sha)
            by_size = -(-sizes.get(sha, 0) // BINARY_LINE_BYTES)
            total += max(by_size, content.count(b"\n") + (not content.endswith(b"\n"))) if content else by_size
        return total

    # -- objects -----------------------------------------------------------------------------
    def object_info(self, specs: Iterable[str]) -> dict[str, Optional[ObjectInfo]]:
        """Type and size of many objects (`sha` or `rev:path`) in one process (none for none)."""
        wanted = list(specs)
        if not wanted:
            return {}
        shared = self._shared()
        if shared is not None:
            return shared.info(wanted)
        with self.session() as objects:
            return objects.info(wanted)

    def read(self, specs: Iterable[str]) -> dict[str, Optional[bytes]]:
        """The contents of many objects (`sha` or `rev:path`) in one process (none for none, nor
        for those a push's quarantine answers: `loose`)."""
        found: dict[str, Optional[bytes]] = {}
        wanted = list(specs)
        loose = self.loose()
        if loose is not None:
            rest = []
            for spec in wanted:
                answer = loose.contents(spec)
                if answer is UNKNOWN:
                    rest.append(spec)
                else:
                    found[spec] = answer  # type: ignore[assignment]
            wanted = rest
        if not wanted:
            return found
        shared = self._shared()
        if shared is not None:
            return {**found, **shared.read(wanted)}
        with self.session() as objects:
            return {**found, **objects.read(wanted)}

    def loose(self) -> Optional[Loose]:
        """The loose objects of the push this hook judges (policy.loose), or None: not in a hook
        (no GIT_QUARANTINE_PATH), BRANCH_POLICY_LOOSE=off, or none there (git kept the push as a
        pack, as it does from receive.unpackLimit objects on: every question goes to git then,
        none is first tried here)."""
        if not self._loose_looked:
            self._loose_looked = True
            path = self.env.get("GIT_QUARANTINE_PATH", "")
            if os.path.isabs(path) and self.env.get("BRANCH_POLICY_LOOSE") != "off":
                try:
                    names = os.listdir(path)
                except OSError:
                    names = []
                if any(len(name) == 2 and _HEX_PAIR.match(name) for name in names):
                    self._loose = Loose(path)
        return self._loose

    def _shared(self) -> Optional[CatFile]:
        """The shared `cat-file --batch-command` (started now if need be), or None while a contents
        feed reads from it."""
        if self._lent:
            return None
        if self._objects is None or self._objects.broken:
            self.processes += 1
            self._objects = CatFile(self._argv(["cat-file", "--batch-command", "--buffer"]), self)
            self._closing.append(weakref.finalize(self, self._objects.close))
        return self._objects

    def close(self) -> None:
        """End the shared cat-file (else it ends when this object is collected): a process that
        judges push after push (the warm judge's worker) keeps no pipe of an earlier one."""
        for finalizer in self._closing:
            finalizer()
        self._closing.clear()

    def session(self) -> CatFile:
        """One `cat-file --batch-command`, kept open for as many questions as the caller has: a
        hook asks for HEAD and the policy first, sizes and contents of staged blobs later."""
        self.processes += 1
        return CatFile(self._argv(["cat-file", "--batch-command", "--buffer"]), self)

    def size_feed(self, limit: int) -> Feed[str, dict[str, tuple[int, str]]] | _SizesView | _LooseSizes:
        """Fed `<blob> <note>` lines (a note: one line of the caller's, given back): the blobs over
        `limit` bytes, each with its size and the note of its first line. Asked on the shared
        cat-file while it is free (beside the contents of `contents_feed`: one process for every
        object question of a push); past `SIZES_SHARED` blobs, a `cat-file --batch-check` of their
        own takes the rest, and git carries the notes (`%(rest)`), so nothing is held here per
        blob: a history of a million commits asks for over a million. In a push's quarantine, the
        blobs loose there are answered without git (`loose`)."""
        loose = self.loose()
        if loose is not None:
            return _LooseSizes(loose, limit, lambda: self._size_feed(limit))
        return self._size_feed(limit)

    def _size_feed(self, limit: int) -> Feed[str, dict[str, tuple[int, str]]] | _SizesView:
        mux = self._mux("sizes")
        if mux is None:
            return self._size_process(limit)
        return _SizesView(mux, limit)

    def _size_process(self, limit: int) -> Feed[str, dict[str, tuple[int, str]]]:
        self.processes += 1
        argv = self._argv(["cat-file", "--batch-check=%(objectsize) %(objectname) %(rest)", "--buffer"])
        return Feed(argv, self, _big_sizes(limit), every=512, keep=False)

    def contents_feed(
        self, each: Optional[Callable[[str, bytes], bool]] = None
    ) -> Feed[str, dict[str, Optional[bytes]]] | _ContentsView | _LooseContents:
        """Fed specs (`sha` or `rev:path`, one line each): their contents (None when missing).
        `each(spec, contents)` runs on the feed's thread as each one arrives (to parse them while
        the walk goes on); when it returns True the contents are used up and not kept. In a push's
        quarantine, what its loose objects answer is answered without git (`loose`), `each` then
        running at once, in the caller's thread."""
        loose = self.loose()
        if loose is not None:
            return _LooseContents(loose, each, lambda: self._contents_feed(each))
        return self._contents_feed(each)

    def _contents_feed(
        self, each: Optional[Callable[[str, bytes], bool]] = None
    ) -> Feed[str, dict[str, Optional[bytes]]] | _ContentsView:
        mux = self._mux("contents")
        if mux is None:  # a second feed at once: a process of its own
            self.processes += 1
            return Feed(self._argv(["cat-file", "--batch", "--buffer"]), self, _contents(each))
        return _ContentsView(mux, each)

    def _mux(self, view: str) -> Optional[_Mux]:
        """The feeds' use of the shared cat-file: one size feed and one contents feed (a judge's),
        until they have their results; None when that feed is taken."""
        if self._feeding is not None and not self._feeding.finished:
            return None if view in self._feeding.views else self._feeding
        shared = self._shared()
        if shared is None:
            return None
        self._lent = True
        self._feeding = _Mux(shared, self, functools.partial(_give_back, weakref.ref(self)))
        return self._feeding


class CatFile:
    """`git cat-file --batch-command`: `info`, `sizes` and `read`, in turns, on one process.
    Requests are written from a thread, so a batch of any size cannot block on a full pipe."""

    def __init__(self, argv: list[str], git: Git) -> None:
        self._proc = subprocess.Popen(
            argv, cwd=git.cwd, env=git.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.broken = False  # a feed on it failed half-way: its answers are out of step
        if self._proc.stdin:
            _widen(self._proc.stdin)  # a feed on it writes during the walk: up to 1 MiB ahead of git

    def __enter__(self) -> CatFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ask(self, command: str, specs: list[str]) -> threading.Thread:
        stdin = self._proc.stdin
        assert stdin
        payload = encode("".join(f"{command} {spec}\n" for spec in specs) + "flush\n")

        def write() -> None:
            with contextlib.suppress(BrokenPipeError):
                stdin.write(payload)
                stdin.flush()

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        return writer

    def _header(self) -> Optional[ObjectInfo]:
        """One response line: `<sha> <type> <size>`, or `<spec> missing` (or ambiguous)."""
        assert self._proc.stdout
        line = self._proc.stdout.readline()
        if not line:
            raise GitError(
                f"git cat-file stopped: {decode(self._proc.stderr.read() if self._proc.stderr else b'').strip()}"
            )
        fields = line.split()
        if len(fields) != 3 or not fields[2].isdigit():
            return None
        return ObjectInfo(fields[0].decode(), fields[1].decode(), int(fields[2]))

    def info(self, specs: Iterable[str]) -> dict[str, Optional[ObjectInfo]]:
        wanted = list(dict.fromkeys(specs))
        if not wanted:
            return {}
        writer = self._ask("info", wanted)
        result = {spec: self._header() for spec in wanted}
        writer.join()
        return result

    def sizes(self, blobs: Iterable[str]) -> dict[str, int]:
        return {sha: found.size for sha, found in self.info(blobs).items() if found}

    def read(self, specs: Iterable[str]) -> dict[str, Optional[bytes]]:
        wanted = list(dict.fromkeys(specs))
        if not wanted:
            return {}
        writer = self._ask("contents", wanted)
        out = self._proc.stdout
        assert out
        result: dict[str, Optional[bytes]] = {}
        for spec in wanted:
            found = self._header()
            result[spec] = None if found is None else out.read(found.size)
            if found is not None:
                out.read(1)  # the newline after the contents
        writer.join()
        return result

    def close(self) -> None:
        if self._proc.stdin:
            with contextlib.suppress(BrokenPipeError, ValueError):
                self._proc.stdin.close()
        if self.broken:
            with contextlib.suppress(OSError):
                self._proc.kill()
        self._proc.wait()
        for pipe in (self._proc.stdout, self._proc.stderr):
            if pipe:
                pipe.close()


_END = "0" * 40  # asked last of a feed on the shared cat-file: the null id, never an object


def _give_back(git: weakref.ref[Git]) -> None:
    """The shared cat-file is free again (a feed has its answers)."""
    found = git()
    if found is not None:
        found._lent = False


SIZES_SHARED = 1024  # size questions asked on the shared cat-file; more go to a process of their own


class _Mux:
    """Size and contents questions asked during the walks, on the shared `cat-file
    --batch-command` (`info <blob>`, `contents <spec>`, a `flush` per batch), answered on a thread
    of its own in the order asked. `finish()` asks `info` of the null id last, so that thread
    knows the end without the process ending, and gives the process back (`done`)."""

    def __init__(self, cat: CatFile, git: Git, done: Callable[[], None]) -> None:
        self._cat = cat
        # weakly: a judge that failed half-way leaves its reading thread waiting on git; when its
        # Git goes, the shared cat-file is closed, and that thread ends
        self._git = weakref.ref(git)
        self._done = done
        self.views: set[str] = set()  # "sizes", "contents": the feeds attached
        self.finished = False
        self.limit = 0
        self.each: Optional[Callable[[str, bytes], bool]] = None
        # ("c", spec) or ("s", blob, note), until answered; None: the end
        self.items: deque[Optional[tuple[str, ...]]] = deque()
        self._outbox: list[str] = []
        self.contents: dict[str, Optional[bytes]] = {}
        self.sizes: dict[str, tuple[int, str]] = {}
        self._asked_sizes = 0
        self._spill: Optional[Feed[str, dict[str, tuple[int, str]]]] = None
        self._failed: list[BaseException] = []
        proc = cat._proc
        assert proc.stdout and proc.stdin
        out = proc.stdout

        def read() -> None:
            try:
                while True:
                    line = out.readline()
                    if not line:
                        err = proc.stderr.read() if proc.stderr else b""
                        raise GitError(f"git cat-file stopped: {decode(err).strip()}")
                    item = self.items.popleft()
                    if item is None:
                        return
                    fields = line.split()
                    known = len(fields) == 3 and fields[2].isdigit()
                    if item[0] == "s":
                        size = int(fields[2]) if known else 0
                        if size > self.limit and item[1] not in self.sizes:
                            self.sizes[item[1]] = (size, item[2])
                        continue
                    spec = item[1]
                    if not known:
                        self.contents[spec] = None
                        continue
                    content = out.read(int(fields[2]))
                    out.read(1)  # the newline after the contents
                    if self.each is None or not self.each(spec, content):
                        self.contents[spec] = content
            except BaseException as exc:  # re-raised by finish(), in the caller's thread
                self._failed.append(exc)
                cat.broken = True

        self._thread = threading.Thread(target=read, daemon=True)
        self._thread.start()

    def add_contents(self, spec: str) -> None:
        self.items.append(("c", spec))  # before git can answer it
        self._outbox.append(f"contents {spec}\n")
        if len(self._outbox) >= 256:
            self._flush()

    def add_size(self, line: str) -> None:
        if self._spill is None and self._asked_sizes >= SIZES_SHARED:
            git = self._git()
            assert git is not None  # the caller's judge holds it
            self._spill = git._size_process(self.limit)
        if self._spill is not None:
            self._spill.add(line)
            return
        self._asked_sizes += 1
        blob, note = line.split(" ", 1)
        self.items.append(("s", blob, note))
        self._outbox.append(f"info {blob}\n")
        if len(self._outbox) >= 256:
            self._flush()

    def _flush(self, last: str = "") -> None:
        stdin = self._cat._proc.stdin
        assert stdin
        lines = "".join(self._outbox) + last
        self._outbox = []
        if lines:
            with contextlib.suppress(BrokenPipeError, ValueError):  # git stopped: finish() says why
                stdin.write(encode(lines + "flush\n"))
                stdin.flush()

    def finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        self.items.append(None)
        self._flush(f"info {_END}\n")
        self._thread.join()
        if self._failed:
            self._cat.close()
            raise self._failed[0]
        self._done()
        if self._spill is not None:  # asked after those of the shared process: the first one stays
            for blob, found in self._spill.result().items():
                self.sizes.setdefault(blob, found)


class _SizesView:
    """`Git.size_feed` on the shared cat-file (see `_Mux`)."""

    def __init__(self, mux: _Mux, limit: int) -> None:
        mux.views.add("sizes")
        mux.limit = limit
        self._mux = mux

    def add(self, line: str) -> None:
        self._mux.add_size(line)

    def result(self) -> dict[str, tuple[int, str]]:
        self._mux.finish()
        return self._mux.sizes


class _ContentsView:
    """`Git.contents_feed` on the shared cat-file (see `_Mux`)."""

    def __init__(self, mux: _Mux, each: Optional[Callable[[str, bytes], bool]]) -> None:
        mux.views.add("contents")
        mux.each = each
        self._mux = mux

    def add(self, spec: str) -> None:
        self._mux.add_contents(spec)

    def result(self) -> dict[str, Optional[bytes]]:
        self._mux.finish()
        return self._mux.contents


_Sizes = dict[str, tuple[int, str]]
_Contents = dict[str, Optional[bytes]]


class _LooseSizes:
    """`Git.size_feed` in a push's quarantine: a blob loose there is answered from its header; the
    others go to git's feed (`rest`), started at the first of them."""

    def __init__(self, loose: Loose, limit: int, rest: Callable[[], Feed[str, _Sizes] | _SizesView]) -> None:
        self._loose, self._limit, self._start = loose, limit, rest
        self._rest: Optional[Feed[str, _Sizes] | _SizesView] = None
        self._found: dict[str, tuple[int, str]] = {}

    def add(self, line: str) -> None:
        blob, note = line.split(" ", 1)
        size = self._loose.size(blob)
        if size is None:
            if self._rest is None:
                self._rest = self._start()
            self._rest.add(line)
        elif size > self._limit and blob not in self._found:
            self._found[blob] = (size, note)

    def result(self) -> dict[str, tuple[int, str]]:
        found = dict(self._found)
        if self._rest is not None:
            for blob, answer in self._rest.result().items():
                found.setdefault(blob, answer)
        return found


class _LooseContents:
    """`Git.contents_feed` in a push's quarantine (see `_LooseSizes`)."""

    def __init__(
        self,
        loose: Loose,
        each: Optional[Callable[[str, bytes], bool]],
        rest: Callable[[], Feed[str, _Contents] | _ContentsView],
    ) -> None:
        self._loose, self._each, self._start = loose, each, rest
        self._rest: Optional[Feed[str, _Contents] | _ContentsView] = None
        self._found: dict[str, Optional[bytes]] = {}

    def add(self, spec: str) -> None:
        answer = self._loose.contents(spec)
        if answer is UNKNOWN:
            if self._rest is None:
                self._rest = self._start()
            self._rest.add(spec)
        elif not isinstance(answer, bytes):  # None: git would say "missing"
            self._found[spec] = None
        elif self._each is None or not self._each(spec, answer):
            self._found[spec] = answer

    def result(self) -> dict[str, Optional[bytes]]:
        found = dict(self._found)
        if self._rest is not None:
            found.update(self._rest.result())
        return found


class Feed(Generic[K, R]):
    """A git process fed while the caller goes on (a history walk, on the other core): items go
    in as they are found, in batches of `every` lines (`line(item)`; by default the item is the
    line); a thread drains git's output with `drain(stdout, items)`, where `items` is a deque of
    the items not yet answered, in order (the drain takes each from the left as its answer comes;
    empty when `keep` is false: the lines say all the drain needs); `result()` ends the input,
    waits, and returns what `drain` made."""

    def __init__(
        self,
        argv: list[str],
        git: Git,
        drain: Callable[[IO[bytes], deque[K]], R],
        line: Optional[Callable[[K], str]] = None,
        every: int = 256,
        keep: bool = True,
    ) -> None:
        self.items: deque[K] = deque()
        self._outbox: list[K] = []
        self._keep = keep
        self._line = line
        self._every = every
        self._out: list[R] = []
        self._failed: list[BaseException] = []
        self._errors: list[bytes] = []
        self._argv = argv
        self._proc = subprocess.Popen(
            argv, cwd=git.cwd, env=git.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert self._proc.stdin and self._proc.stdout and self._proc.stderr
        out, err = self._proc.stdout, self._proc.stderr
        _widen(self._proc.stdin)  # the walk writes on without waiting for git, up to 1 MiB ahead
        _widen(out)

        def read() -> None:
            try:
                self._out.append(drain(out, self.items))
            except BaseException as exc:  # re-raised by result(), in the caller's thread
                self._failed.append(exc)
                out.read()  # keep git from blocking on a full pipe

        self._threads = [
            threading.Thread(target=read, daemon=True),
            threading.Thread(target=lambda: self._errors.append(err.read()), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def add(self, item: K) -> None:
        if self._keep:
            self.items.append(item)  # before git can answer it
        self._outbox.append(item)
        if len(self._outbox) >= self._every:
            self._flush()

    def _flush(self) -> None:
        stdin = self._proc.stdin
        assert stdin
        batch, self._outbox = self._outbox, []
        if batch:
            lines = batch if self._line is None else [self._line(item) for item in batch]
            with contextlib.suppress(BrokenPipeError):  # git stopped: result() says why
                stdin.write(encode("\n".join(lines) + "\n"))  # type: ignore[arg-type]
                stdin.flush()

    def result(self) -> R:
        assert self._proc.stdin
        self._flush()
        with contextlib.suppress(BrokenPipeError):
            self._proc.stdin.close()
        for thread in self._threads:
            thread.join()
        code = self._proc.wait()
        if self._failed:
            raise self._failed[0]
        if code != 0 or not self._out:
            raise GitError(f"git {' '.join(self._argv[-3:])} failed: {decode(b''.join(self._errors)).strip()}")
        return self._out[0]


def _big_sizes(limit: int) -> Callable[[IO[bytes], deque[str]], dict[str, tuple[int, str]]]:
    """Drain `cat-file --batch-check=%(objectsize) %(objectname) %(rest)`, one line per blob asked
    (in order), keeping only those over `limit` (large-file needs no more), the first line of each.
    A regular expression that starts with a newline (found by a fast scan) picks them out of each
    chunk: no Python runs per line while the walk needs the interpreter. (`<name> missing` lines
    do not match.)"""
    big = re.compile(rb"\n([0-9]{%d,}) ([0-9a-f]+) ([^\n]*)" % len(str(limit)))

    def drain(out: IO[bytes], _: deque[str]) -> dict[str, tuple[int, str]]:
        found: dict[str, tuple[int, str]] = {}
        rest = b"\n"  # each block starts at a line's start, after a newline
        while True:
            chunk = out.read1(1 << 20)  # type: ignore[attr-defined]
            block = rest + chunk
            cut = block.rfind(b"\n") if chunk else len(block)
            for size, blob, note in big.findall(block, 0, cut):
                if int(size) > limit and blob.decode() not in found:
                    found[blob.decode()] = (int(size), decode(note))
            if not chunk:
                return found
            rest = block[cut:]

    return drain


def _contents(
    each: Optional[Callable[[str, bytes], bool]],
) -> Callable[[IO[bytes], deque[str]], dict[str, Optional[bytes]]]:
    """Drain `cat-file --batch`: for each spec asked, in order, `<sha> <type> <size>` and the
    contents, or `<spec> missing` (None). `each(spec, contents)` runs as each one arrives; what
    it used up (True) is not kept."""

    def drain(out: IO[bytes], specs: deque[str]) -> dict[str, Optional[bytes]]:
        found: dict[str, Optional[bytes]] = {}
        for line in iter(out.readline, b""):
            fields = line.split()
            spec = specs.popleft()
            if len(fields) != 3 or not fields[2].isdigit():
                found[spec] = None
                continue
            content = out.read(int(fields[2]))
            out.read(1)  # the newline after the contents
            if each is None or not each(spec, content):
                found[spec] = content
        return found

    return drain


def _chunks(proc: subprocess.Popen[bytes], writer: Optional[threading.Thread], args: Sequence[str]) -> Iterator[bytes]:
    """git's stdout in chunks as they come; its stderr read alongside (no thread), for the error."""
    assert proc.stdout and proc.stderr
    out, err = proc.stdout.fileno(), proc.stderr.fileno()
    errors: list[bytes] = []
    poller = select.poll()
    open_fds = {out, err}
    for fd in open_fds:
        poller.register(fd, select.POLLIN)
    try:
        while open_fds:
            for fd, _ in poller.poll():
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    poller.unregister(fd)
                    open_fds.discard(fd)
                elif fd == out:
                    yield chunk
                else:
                    errors.append(chunk)
    finally:
        proc.stdout.close()
        proc.stderr.close()
        if writer is not None:
            writer.join()
        code = proc.wait()
    if code != 0:
        raise GitError(f"git {' '.join(args[:2])} failed: {decode(b''.join(errors)).strip()}")


def _widen(pipe: IO[bytes]) -> None:
    """Let git run ahead of the parser: a 1 MiB pipe instead of 64 KiB (Linux; elsewhere, or
    when the system caps pipes lower, the default stays)."""
    with contextlib.suppress(AttributeError, OSError):
        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)  # type: ignore[attr-defined]


def _ancestor_answer(proc: subprocess.Popen[bytes]) -> Callable[[], bool]:
    """Waits for `merge-base --is-ancestor` once; asked again (two refs moving alike), the same."""
    done: list[bool] = []

    def answer() -> bool:
        if not done:
            _, err = proc.communicate()
            if proc.returncode not in (0, 1):
                raise GitError(f"git merge-base --is-ancestor failed: {decode(err).strip()}")
            done.append(proc.returncode == 0)
        return done[0]

    return answer


def _listed(chunks: Iterable[bytes], wanted: set[str]) -> set[str]:
    """The shas of `wanted` among the lines of rev-list's output (a set intersection per chunk:
    the output of a walk of 50,000 commits is matched without a Python step per line)."""
    asked = {sha.encode() for sha in wanted}
    found: set[bytes] = set()
    rest = b""
    for chunk in chunks:
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        found.update(asked.intersection(lines))
    if rest in asked:
        found.add(rest)
    return {sha.decode() for sha in found}


def _feed(stdin: IO[bytes], lines: Iterable[str]) -> None:
    try:
        batch: list[str] = []
        for line in lines:
            batch.append(line)
            if len(batch) >= 4096:
                stdin.write(encode("\n".join(batch) + "\n"))
                batch = []
        if batch:
            stdin.write(encode("\n".join(batch) + "\n"))
    except BrokenPipeError:
        pass
    finally:
        with contextlib.suppress(BrokenPipeError):
            stdin.close()


_new = tuple.__new__


def _change(meta: bytes, path: bytes) -> Change:
    """`:100644 100644 <old> <new> M` or, for merges, `::m1 m2 mr s1 s2 sr MM` + path."""
    meta = meta.lstrip(b"\n")
    if meta[1] != 58:  # one parent: the common case, kept cheap (one decode of plain ASCII)
        fields = meta.decode("latin-1").split(" ")
        # tuple.__new__ skips the NamedTuple's Python-level __new__: this runs per changed path
        return _new(Change, (fields[4][:1], path.decode("utf-8", "surrogateescape"), fields[3], fields[1]))
    parents = len(meta) - len(meta.lstrip(b":"))
    merged = meta[parents:].decode("latin-1").split(" ")
    new_mode = merged[parents]
    if new_mode == "000000":
        status = "D"
    elif set(merged[-1]) == {"A"}:
        status = "A"
    else:
        status = "M"
    return Change(status, decode(path), merged[2 * parents + 1], new_mode)


def _parse_log(chunks: Iterable[bytes], paths: bool) -> Iterator[Commit]:
    """Parse `log -z --format=%x01%H %T %P%x00%B [--raw]` without trusting message contents:
    the body is taken by position (it is the token after a header), and a path by position (the
    token after its `:` meta token). One loop over the tokens of each chunk: this runs once per
    token of a 100k-commit history, so it avoids generator layers."""
    rest = b""
    header: Optional[bytes] = None
    message = b""
    meta = b""
    changes: list[Change] = []
    expect = 0  # 0: a header or a meta token; 1: the body; 2: a path
    for chunk in chain(chunks, (b"\0",)):  # lazily: parse while git is still writing
        parts = (rest + chunk).split(b"\0")
        rest = parts.pop()
        for token in parts:
            if expect == 1:
                message, expect = token, 0
            elif expect == 2:
                changes.append(_change(meta, token))
                expect = 0
            elif token:
                if token[0] == 10:  # "\n" before a meta token
                    token = token.lstrip(b"\n")
                    if not token:
                        continue
                if token[0] == 1:
                    if header is not None:
                        yield _commit(header, message, changes)
                    header, changes, expect = token[1:], [], 1
                elif token[0] == 58:  # ":"
                    meta, expect = token, 2
    if header is not None:
        yield _commit(header, message, changes)


def _commit(header: bytes, message: bytes, changes: list[Change]) -> Commit:
    fields = header.decode().split()  # %H %T %P: a root commit has no parents, and ends in " "
    message_text = message.decode("utf-8", "surrogateescape")
    return _new(Commit, (fields[0], fields[1], tuple(fields[2:]), message_text, tuple(changes)))


def is_zero(sha: str) -> bool:
    return sha == ZERO or (len(sha) == 40 and set(sha) == {"0"})
