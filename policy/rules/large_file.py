"""large-file: files over the size limit, or with a data/model suffix, belong in DVC."""

from __future__ import annotations

from typing import Optional

from policy.config import Policy
from policy.model import Change, Violation
from policy.rules._base import violation

ID = "large-file"
_NOT_FILES = ("160000", "120000", "000000")  # submodules, symlinks, deletions


def needs_size(change: Change, policy: Policy) -> bool:
    """Whether the rule must look at this change's blob size (it adds or changes a file)."""
    return is_file(change) and judged_path(change.path, policy)


def is_file(change: Change) -> bool:
    """It adds or changes a file (not a deletion, a submodule or a symlink)."""
    return not change.deleted and change.mode not in _NOT_FILES


def judged_path(path: str, policy: Policy) -> bool:
    """The path is not exempt (DVC's own files): the part of `needs_size` a caller may remember
    per path."""
    return not policy.large_file_exempt(path)


def has_suffix(path: str, policy: Policy) -> bool:
    """A data or model file by its name (.pt, .ckpt, ...): check_suffix refuses it."""
    return path.lower().endswith(policy.suffixes)


def check_suffix(change: Change, ref: str, commit: str, policy: Policy) -> Optional[Violation]:
    """For a change that `needs_size` (the caller filters: this runs for every changed path)."""
    lower = change.path.lower()
    if not lower.endswith(policy.suffixes):
        return None
    suffix = next(s for s in policy.suffixes if lower.endswith(s))
    return violation(
        ID,
        f"{suffix} files are data or model files and are not added to git",
        _hint(change.path),
        ref=ref,
        commit=commit,
        path=change.path,
    )


def check_size(path: str, size: int, ref: str, commit: str, policy: Policy) -> Optional[Violation]:
    if size <= policy.max_bytes:
        return None
    return violation(
        ID,
        f"file is {size // 1024} KB, over the {policy.max_bytes // 1024} KB limit",
        _hint(path),
        ref=ref,
        commit=commit,
        path=path,
    )


def _hint(path: str) -> str:
    return (
        f"track it with DVC instead: git rm --cached '{path}' && dvc add '{path}' && "
        f"git add '{path}.dvc' .gitignore (then amend or rewrite the commit that added it)"
    )
