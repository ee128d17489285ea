"""large-file: files over the size limit, or with a data/model suffix, belong in DVC.

Every path of every blob is judged (a blob seen first as `a.txt` is judged again as `model.pt`),
symlinks included (a symlink's blob is its target, of any size). The `allow` globs (DVC's own
files) skip the suffix check only: their size still counts, a `.dvc` file must be a DVC pointer
(what `dvc add` writes), and nothing under `.dvc/cache/` or `.dvc/tmp/` enters git."""

from __future__ import annotations

from typing import Optional

from policy.config import Policy
from policy.model import Change, Violation
from policy.rules._base import q, rewrite, violation

ID = "large-file"
MAX_POINTER_BYTES = 64 * 1024  # a pointer lists a few outputs; anything larger is not one


def is_blob(change: Change) -> bool:
    """It adds or changes a blob (a file or a symlink; not a deletion nor a submodule's commit)."""
    return not change.deleted and change.mode != "160000"


def suffix_judged(path: str, policy: Policy) -> bool:
    """A data or model suffix (.pt, .ckpt, ...) on a path the `allow` globs do not exempt."""
    return path.lower().endswith(policy.suffixes) and not policy.large_file_exempt(path)


def has_suffix(path: str, policy: Policy) -> bool:
    return path.lower().endswith(policy.suffixes)


def dvc_problem(path: str, policy: Policy) -> Optional[str]:
    """What is wrong with a path inside a `.dvc/` folder: DVC's cache and tmp never enter git."""
    parts = path.split("/")
    for i, part in enumerate(parts[:-1]):
        if part == ".dvc" and parts[i + 1] in ("cache", "tmp"):
            return f"DVC's {parts[i + 1]} folder belongs to the machine, not to git"
    return None


def is_pointer_path(path: str) -> bool:
    return path.endswith(".dvc")


def pointer_problem(content: bytes) -> Optional[str]:
    """Why `content` is not a DVC pointer file (YAML with an `outs` list of entries with a `path`)."""
    if len(content) > MAX_POINTER_BYTES:
        return f"a .dvc file of {len(content) // 1024} KB is not a DVC pointer"
    import yaml

    try:
        data = yaml.safe_load(content.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError, RecursionError):
        return "a .dvc file that is not YAML is not a DVC pointer"
    outs = data.get("outs") if isinstance(data, dict) else None
    if not isinstance(outs, list) or not outs or not all(isinstance(o, dict) and "path" in o for o in outs):
        return "a .dvc file without an 'outs' list of paths is not a DVC pointer"
    return None


def check_suffix(change: Change, ref: str, commit: str, policy: Policy) -> Optional[Violation]:
    if not suffix_judged(change.path, policy):
        return None
    lower = change.path.lower()
    suffix = next(s for s in policy.suffixes if lower.endswith(s))
    return violation(
        ID,
        f"{suffix} files are data or model files and are not added to git",
        _hint(change.path, commit),
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
        _hint(path, commit),
        ref=ref,
        commit=commit,
        path=path,
    )


def check_dvc_path(path: str, problem: str, ref: str, commit: str) -> Violation:
    drop = f"git rm -r -q --cached {q(path)}"
    how = f"`{drop}`" if not commit else f"and redo {commit[:7]} without it, `{rewrite(commit, drop)}`"
    return violation(
        ID,
        problem,
        f"DVC's own files stay out of git (its .dvc/.gitignore keeps them out): unstage it {how}",
        ref=ref,
        commit=commit,
        path=path,
    )


def check_pointer(path: str, problem: str, ref: str, commit: str) -> Violation:
    data = path[: -len(".dvc")]
    return violation(
        ID,
        problem,
        _pointer_hint(path, data, commit),
        ref=ref,
        commit=commit,
        path=path,
    )


def staged(changes: list[Change], sizes: dict[str, int], pointers: dict[str, Optional[bytes]], ref: str,
           policy: Policy) -> list[Violation]:  # fmt: skip
    """The rule over a staged change (the client's pre-commit): the server's judgement, per path.
    `sizes`: of the changes' blobs; `pointers`: the contents of the .dvc files among them."""
    found: list[Violation] = []
    for change in changes:
        if not is_blob(change):
            continue
        path = change.path
        problem = dvc_problem(path, policy)
        content = pointers.get(change.blob) if is_pointer_path(path) else None
        pointer = pointer_problem(content) if content is not None else None
        found += [
            v
            for v in (
                check_suffix(change, ref, "", policy),
                check_dvc_path(path, problem, ref, "") if problem else None,
                check_pointer(path, pointer, ref, "") if pointer else None,
                check_size(path, sizes.get(change.blob, 0), ref, "", policy),
            )
            if v
        ]
    return found


def _pointer_hint(path: str, data: str, commit: str) -> str:
    write = f"git rm -q --cached {q(path)} && dvc add -q {q(data)} && git add {q(path)}"
    if not commit:
        return f"let DVC write it, `{write}`"
    return f"let DVC write it and redo {commit[:7]} with it, `{rewrite(commit, write)}`"


def _hint(path: str, commit: str) -> str:
    """DVC keeps the file: `dvc add` writes the pointer and the .gitignore beside the file (inside
    the run's folder on a task branch, which is all a task branch may change)."""
    folder = path.rpartition("/")[0]
    ignore = f"{folder}/.gitignore" if folder else ".gitignore"
    track = f"git rm -q --cached {q(path)} && dvc add -q {q(path)} && git add {q(path + '.dvc')} {q(ignore)}"
    also = (
        " (DVC set up once with dvc init, on a branch that takes code; without DVC, keep the file out of git "
        "with a line "
        f"in {ignore} instead)"
    )
    if not commit:
        return f"track it with DVC instead, `{track}`{also}"
    return f"track it with DVC instead and redo {commit[:7]} without it, `{rewrite(commit, track)}`{also}"
