"""The objects a push brought, read where git left them: loose files in the push's quarantine.

receive-pack keeps what a push sends in a quarantine directory until the pre-receive hook has
spoken (GIT_QUARANTINE_PATH). A small push (fewer objects than receive.unpackLimit, 100 unless
set) is unpacked there into loose objects, one zlib file per object, written by git itself from
the objects' contents. A push of one commit asks a handful of questions about those objects (its
tree, the policy file it carries, the size of each new blob), and answering them here spares it
a `git cat-file` process.

Only what is certain is answered: an object is read whole and its id checked against its
contents (sizes are read from the header git wrote, as `cat-file -s` does); any object that is
not a loose file of the quarantine (it was in the repository before, or the push came as a pack)
and anything unusual on the way (a submodule, a malformed tree, an unreadable file) is UNKNOWN,
and the caller asks git. A missing answer is never a guess.
"""

from __future__ import annotations

import hashlib
import os
import re
import zlib
from typing import Optional, Union

UNKNOWN = object()  # the answer: ask git
Answer = Union[bytes, None, object]  # contents, None (git would say "missing"), or UNKNOWN

_OID = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?\Z")
_KINDS = {b"blob", b"tree", b"commit", b"tag"}
_HEADER_MAX = 32  # "commit 18446744073709551615\0" fits
# compressed bytes read for a size: deflate's block header (its code tables, under 400 bytes) and the
# header's 32 bytes fit; were they not there, no header would be found and git would be asked
_HEADER_READ = 1024
# blobs not in the quarantine whose contents a push asks for by path (the policy file a branch
# carries, unchanged from main's): contents by object id, a pure function of it
_KNOWN: dict[str, bytes] = {}
KNOWN_MAX = 64


def remember(oid: str, contents: bytes) -> None:
    """Keep the contents of a small blob read from the repository (by its id: they never change)."""
    if len(_KNOWN) >= KNOWN_MAX:
        _KNOWN.clear()
    _KNOWN[oid] = contents


class Loose:
    """The loose objects under `directory` (a push's quarantine)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def _file(self, oid: str, limit: int = -1) -> Optional[bytes]:
        """The loose file of `oid` (its first `limit` bytes), None where there is none."""
        if not _OID.match(oid):
            return None
        try:
            with open(os.path.join(self.directory, oid[:2], oid[2:]), "rb") as handle:
                return handle.read(limit)
        except OSError:
            return None

    def read(self, oid: str) -> Optional[tuple[bytes, bytes]]:
        """(type, contents) of a loose object whose contents match its id; None otherwise."""
        data = self._file(oid)
        if data is None:
            return None
        try:
            raw = zlib.decompress(data)
        except zlib.error:
            return None
        header, nul, body = raw.partition(b"\0")
        kind, _, size = header.partition(b" ")
        if not nul or kind not in _KINDS or not size.isdigit() or int(size) != len(body):
            return None
        digest = hashlib.sha1 if len(oid) == 40 else hashlib.sha256
        if digest(raw).hexdigest() != oid:
            return None
        return kind, body

    def size(self, oid: str) -> Optional[int]:
        """The size of a loose blob, from the header git wrote (None: not a loose blob here). Only
        the file's start is read: the header is its first bytes, whatever the blob's size."""
        data = self._file(oid, _HEADER_READ)
        if data is None:
            return None
        try:
            head = zlib.decompressobj().decompress(data, _HEADER_MAX)
        except zlib.error:
            return None
        header, nul, _ = head.partition(b"\0")
        kind, _, size = header.partition(b" ")
        return int(size) if nul and kind == b"blob" and size.isdigit() else None

    def contents(self, spec: str) -> Answer:
        """What `cat-file` says of `spec`: `<oid>`, `<oid>^{commit}`, `<oid>^{tree}` or
        `<oid>:<path>` (a path of plain names); UNKNOWN where this cannot tell for sure."""
        oid, colon, path = spec.partition(":")
        peel = None
        for suffix in ("^{commit}", "^{tree}"):
            if not colon and oid.endswith(suffix):
                oid, peel = oid[: -len(suffix)], suffix[2:-1]
        found = self._object(oid)
        if found is None:
            return UNKNOWN
        kind, body = found
        if not colon and peel is None:
            return body
        if kind != b"commit":  # a tag (or a tree, a blob): git peels it; leave that to git
            return UNKNOWN
        if peel == "commit":
            return body
        tree = _tree_of(body, len(oid))
        if tree is None:
            return UNKNOWN
        return self._at_path(tree, path) if colon else self._contents_of(tree, b"tree")

    def _object(self, oid: str) -> Optional[tuple[bytes, bytes]]:
        found = self.read(oid)
        if found is None and oid in _KNOWN:
            return b"blob", _KNOWN[oid]
        return found

    def _contents_of(self, oid: str, kind: bytes) -> Answer:
        found = self._object(oid)
        if found is None or found[0] != kind:
            return UNKNOWN
        return found[1]

    def _at_path(self, tree: str, path: str) -> Answer:
        """`<tree>:<path>` as git finds it (tree-walk.c, find_tree_entry): entries in the order
        stored, each compared with the path's start, stopping at the first that sorts after it;
        a mis-sorted tree is searched as git searches it, not as it should be."""
        wanted = path.encode("utf-8", "surrogateescape")
        oid_size = len(tree) // 2
        while wanted:
            body = self._contents_of(tree, b"tree")
            if not isinstance(body, bytes):
                return UNKNOWN
            found: Optional[tuple[bytes, str, bytes]] = None  # mode, object, the path left
            at = 0
            while at < len(body):
                nul = body.find(b"\0", at)
                end = nul + 1 + oid_size
                mode, space, name = body[at : max(nul, at)].partition(b" ")
                if nul < 0 or end > len(body) or not space or not name or mode not in _MODES:
                    return UNKNOWN  # malformed, or a mode git would read otherwise: ask git
                oid, at = body[nul + 1 : end].hex(), end
                if len(name) > len(wanted) or wanted[: len(name)] > name:
                    continue
                if wanted[: len(name)] < name:
                    break
                if len(name) == len(wanted):
                    found = (mode, oid, b"")
                    break
                if wanted[len(name) : len(name) + 1] != b"/":
                    continue
                if mode != b"40000":
                    break
                found = (mode, oid, wanted[len(name) + 1 :])
                break
            if found is None:
                return None  # no such path: git says "missing"
            if not found[2]:
                return self._contents_of(found[1], _MODES[found[0]])
            tree, wanted = found[1], found[2]
        return UNKNOWN


_MODES = {b"100644": b"blob", b"100755": b"blob", b"120000": b"blob", b"40000": b"tree"}  # a submodule: ask git


def _tree_of(commit: bytes, hex_length: int) -> Optional[str]:
    first = commit.split(b"\n", 1)[0]
    if not first.startswith(b"tree ") or len(first) != 5 + hex_length:
        return None
    tree = first[5:].decode("ascii", "replace")
    return tree if _OID.match(tree) else None
