"""protected-ref: main and dev are never deleted nor rewritten; version tags never move."""

from __future__ import annotations

from typing import Optional

from policy.model import RefUpdate, Violation
from policy.rules._base import violation

ID = "protected-ref"


def check_branch(update: RefUpdate, branch: str, fast_forward: Optional[bool]) -> list[Violation]:
    if update.deleted:
        return [
            violation(
                ID,
                f"{branch} is protected and cannot be deleted",
                "protected branches stay; delete only temporary branches (feature-*, task-*, ...)",
                ref=update.ref,
                commit=update.old,
            )
        ]
    if fast_forward is False:
        return [
            violation(
                ID,
                f"{branch} is protected and cannot be rewritten (non-fast-forward push)",
                f"put your commits on top of the server's {branch}, `git pull -q --rebase=merges origin {branch}`, "
                f"and push again; never force-push {branch}",
                ref=update.ref,
                commit=update.new,
            )
        ]
    return []


def check_tag(update: RefUpdate, tag: str) -> list[Violation]:
    action = "deleted" if update.deleted else "moved"
    return [
        violation(
            ID,
            f"version tag {tag} cannot be {action}",
            f"a released version is permanent: take the server's {tag} back, "
            f"`git fetch -q -f origin refs/tags/{tag}:refs/tags/{tag}`, and release the next version "
            "(policy release)",
            ref=update.ref,
            commit=update.new if not update.deleted else update.old,
        )
    ]
