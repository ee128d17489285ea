"""hotfix-size: a hotfix branch changes at most N lines against where it started."""

from __future__ import annotations

from typing import Optional

from policy.config import Policy
from policy.model import Violation
from policy.rules._base import violation

ID = "hotfix-size"


def check(ref: str, branch: str, tip: str, lines: Optional[int], policy: Policy) -> list[Violation]:
    """`lines`: changed against where it started; None when it shares no history with main or dev."""
    if lines is None:
        starts = " or ".join(k for k in ("main", "dev") if policy.has_kind(k))
        return [
            violation(
                ID,
                f"hotfix branch {branch} shares no history with {starts}: a hotfix starts from one of them",
                f"start it again there (git checkout -b {branch}-2 origin/main) and cherry-pick the fix onto it",
                ref=ref,
                commit=tip,
            )
        ]
    limit = policy.settings(ID)["max_lines"]
    if lines <= limit:
        return []
    return [
        violation(
            ID,
            f"hotfix branch {branch} changes {lines} lines, more than {limit}",
            "a hotfix fixes, it does not build: move the larger change to a feature-* branch off dev",
            ref=ref,
            commit=tip,
        )
    ]
