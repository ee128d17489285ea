"""branch-name: a pushed or committed-on branch matches one of the branch kinds."""

from __future__ import annotations

from policy.config import Policy
from policy.model import Violation
from policy.naming import example
from policy.rules._base import violation

ID = "branch-name"


def check(ref: str, branch: str, policy: Policy, commit: str = "") -> list[Violation]:
    if policy.allowed_name(branch):
        return []
    examples = ", ".join(example(policy.pattern(kind)) for kind in policy.kinds)
    return [
        violation(
            ID,
            f"branch {branch!r} matches no branch kind",
            f"rename it: git branch -m {branch} <name>, with a name like {examples}",
            ref=ref,
            commit=commit,
        )
    ]
