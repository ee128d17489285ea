"""squash-merge: a squash merge onto main names its source branch and commit; the server checks
that the commit is on that (allowed) branch and that the squash's tree is the real merge."""

from __future__ import annotations

from typing import Optional

from policy.commitmsg import SquashRecord
from policy.model import Commit, Violation
from policy.rules._base import kinds_text, q, violation

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
                f"push {record.branch}, then {target}, "
                f"`git push -q origin {q(record.branch)} && git push -q origin {target}`",
            )
        )
    elif not on_branch:
        fail.append(
            (
                f"squash names {record.commit[:7]} on {record.branch}, but {record.branch} does not contain it",
                f"push {record.branch} as the squash saw it, then {target}, "
                f"`git push -q origin {q(record.branch)} && git push -q origin {target}`",
            )
        )
    elif not clean:
        fail.append(
            (
                f"{record.branch} at {record.commit[:7]} does not merge cleanly into {target}",
                f"drop the squash and merge {target} into {record.branch} first, "
                f"`git reset -q --hard {commit.parents[0][:12] if commit.parents else 'HEAD~1'} && "
                f"git checkout -q {q(record.branch)} && git merge --no-edit {target}`; "
                f"then push {record.branch} and squash again (policy merge {q(record.branch)} --squash on {target})",
            )
        )
    elif merged_tree != commit.tree:
        fail.append(
            (
                f"squash's content differs from the real merge of {record.branch} at {record.commit[:7]}",
                f"redo it, `git reset -q --hard {commit.parents[0][:12] if commit.parents else 'HEAD~1'} && "
                f"policy merge {q(record.branch)} --squash`; extra changes reach {target} through a branch",
            )
        )
    return [violation(ID, message, hint, ref=ref, commit=commit.sha) for message, hint in fail]


def check_unrecorded(commit: Commit, ref: str, target: str) -> list[Violation]:
    """A trailer key is there but unreadable."""
    return [
        violation(
            ID,
            "squash record is malformed (expected 'Squash-Merge: <branch> <40-hex commit>')",
            f"drop it and squash again with the record, `git reset -q --hard "
            f"{commit.parents[0][:12] if commit.parents else 'HEAD~1'}`, then policy merge BRANCH --squash on {target}",
            ref=ref,
            commit=commit.sha,
        )
    ]
