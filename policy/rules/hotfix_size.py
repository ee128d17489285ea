"""hotfix-size: a hotfix branch changes at most N lines against where it started."""

from __future__ import annotations

from policy.config import Policy
from policy.model import Violation
from policy.rules._base import violation

ID = "hotfix-size"


def check(ref: str, branch: str, tip: str, lines: int, policy: Policy) -> list[Violation]:
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
