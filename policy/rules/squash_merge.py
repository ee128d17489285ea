"""squash-merge: a squash merge onto main names its source branch and commit; the server checks
that the commit is on that (allowed) branch and that the squash's tree is the real merge."""

from __future__ import annotations

from typing import Optional

from policy.commitmsg import SquashRecord
from policy.model import Commit, Violation
from policy.rules._base import kinds_text, violation

ID = "squash-merge"


def check(
    commit: Commit,
    ref: str,
    record: SquashRecord,
    *,
    target: str,
    source_kind: Optional[str],
    accepted: list[str],
    source_exists: bool,
    on_branch: bool,
    merged_tree: Optional[str],
    clean: bool,
) -> list[Violation]:
    """`merged_tree`: the tree of the real merge of the commit's parent with record.commit."""
    fail = []
    if source_kind not in accepted:
        fail.append(
            (
                f"squash names {record.branch}, a {source_kind or 'unknown'} branch; "
                f"{target} accepts {kinds_text(accepted)}",
                f"squash-merge only {kinds_text(accepted)} branches into {target}",
            )
        )
    elif not source_exists:
        fail.append(
            (
                f"squash names commit {record.commit[:7]}, which this repository does not have",
                f"push {record.branch} first (or in the same push): git push origin {record.branch} {target}",
            )
        )
    elif not on_branch:
        fail.append(
            (
                f"squash names {record.commit[:7]} on {record.branch}, but {record.branch} does not contain it",
                f"push {record.branch} first (or in the same push), or squash the branch as it is on the server",
            )
        )
    elif not clean:
        fail.append(
            (
                f"{record.branch} at {record.commit[:7]} does not merge cleanly into {target}",
                f"merge {target} into {record.branch} first (git checkout {record.branch} && git merge {target}), "
                "push it, then squash again",
            )
        )
    elif merged_tree != commit.tree:
        fail.append(
            (
                f"squash's content differs from the real merge of {record.branch} at {record.commit[:7]}",
                f"redo it: git reset --hard HEAD~1 && git merge --squash {record.branch} && git commit "
                "(with the hooks installed); extra changes go through dev",
            )
        )
    return [violation(ID, message, hint, ref=ref, commit=commit.sha) for message, hint in fail]


def check_unrecorded(commit: Commit, ref: str, target: str) -> list[Violation]:
    """A trailer key is there but unreadable."""
    return [
        violation(
            ID,
            "squash record is malformed (expected 'Squash-Merge: <branch> <40-hex commit>')",
            f"redo the squash with the hooks installed: git merge --squash <branch> && git commit on {target}",
            ref=ref,
            commit=commit.sha,
        )
    ]
