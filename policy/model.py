"""The facts the engine judges and the verdicts it returns: plain data, no behaviour."""

from __future__ import annotations

from typing import NamedTuple, Optional

ZERO = "0" * 40


class RefUpdate(NamedTuple):
    """One line of a push: `ref` moves from `old` to `new` (ZERO = created / deleted)."""

    ref: str
    old: str
    new: str

    @property
    def created(self) -> bool:
        return self.old == ZERO

    @property
    def deleted(self) -> bool:
        return self.new == ZERO


class Change(NamedTuple):
    """One path a commit changes. Renames are not detected: they arrive as D + A."""

    status: str  # A, M, D, T (for merges: A if added against every parent, D if deleted, else M)
    path: str  # decoded with surrogateescape: round-trips any byte string
    blob: str  # the new blob ("0"*40 when deleted)
    mode: str  # the new mode ("000000" when deleted)

    @property
    def deleted(self) -> bool:
        return self.status == "D"


class Commit(NamedTuple):
    sha: str
    tree: str
    parents: tuple[str, ...]
    message: str
    changes: tuple[Change, ...]  # for merges: paths that differ from every parent (combined diff)

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1


class ObjectInfo(NamedTuple):
    """What `git cat-file --batch-check` says of an object."""

    sha: str
    type: str  # commit, tree, blob, tag
    size: int


class Violation(NamedTuple):
    rule: str
    ref: str  # full ref name, or "" when the violation is about a file
    commit: str  # full sha, or ""
    path: str  # repository path, or ""
    message: str
    hint: str


def short(sha: str) -> str:
    return sha[:7] if sha else "-------"


def branch_name(ref: str) -> Optional[str]:
    return ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else None


def tag_name(ref: str) -> Optional[str]:
    return ref[len("refs/tags/") :] if ref.startswith("refs/tags/") else None


class Incomplete(Exception):
    """The engine could not finish: `found` holds the violations it had already found (refused
    even under `on_error: allow`, which allows only what could not be judged), `cause` why."""

    def __init__(self, cause: BaseException, found: list[Violation]) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.cause = cause
        self.found = found
