"""unsafe-path: no path that git would refuse to check out (`.`, `..`, `.git` components).

A tree entry named `..` puts `tasks/<run>/../../src/model.py` into a commit: task-scope would see a
path under the run's folder, and every clone of the branch would then fail. Git's own checkout
refuses these names (also `.git` in any case, with trailing dots or spaces on NTFS, with
ignorable characters on HFS+, its short name `git~1`, and backslashes): so does this rule."""

from __future__ import annotations

from typing import Optional

from policy.model import Violation
from policy.rules._base import violation

ID = "unsafe-path"
# code points HFS+ ignores when it compares names (git's is_hfs_dotgit)
_IGNORABLE = dict.fromkeys([0x200C, 0x200D, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x206A, 0x2070), 0xFEFF])


def problem(path: str) -> Optional[str]:
    """Why git would not check `path` out, or None."""
    if "\\" in path:
        return "a backslash in a path (a folder separator on Windows)"
    for part in path.split("/"):
        if part in ("", ".", ".."):
            return f"a path component {part!r}"
        name = part.translate(_IGNORABLE).casefold().rstrip(". ")
        if name in (".git", "git~1"):
            return f"a path component {part!r} (git's own folder)"
    return None


def check(path: str, reason: str, ref: str, commit: str) -> Violation:
    return violation(
        ID,
        f"git will not check this path out: {reason}",
        "the commit was made with plumbing (git mktree), not by git add: rebuild it from your staged "
        f"files, `git reset -q --soft {commit[:12]}^ && git commit -q --allow-empty -C {commit[:12]}` "
        "(git status first: what is staged is what it keeps)",
        ref=ref,
        commit=commit,
        path=path,
    )
