"""hotfix-size: a hotfix branch changes at most N lines against where it started."""

from __future__ import annotations

from typing import Optional

from policy.config import Policy
from policy.model import Violation
from policy.rules._base import q, violation

ID = "hotfix-size"


def check(ref: str, branch: str, tip: str, lines: Optional[int], policy: Policy) -> list[Violation]:
    """`lines`: changed against where it started; None when it shares no history with main or dev."""
    if lines is None:
        starts = " or ".join(k for k in ("main", "dev") if policy.has_kind(k))
        return [
            violation(
                ID,
                f"hotfix branch {branch} shares no history with {starts}: a hotfix starts from one of them",
                f"start it again there, `git checkout -q -b {q(branch + '-2')} origin/{policy.pattern('main')}`, "
                f"and bring the fix over (git cherry-pick, or git checkout {q(branch)} -- PATH)",
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
            bigger(branch, tip, policy),
            ref=ref,
            commit=tip,
        )
    ]


def bigger(branch: str, tip: str, policy: Policy) -> str:
    """Where a change larger than a fix goes: a feature branch off dev, or off main without dev."""
    base = next((k for k in ("dev", "main") if policy.has_kind(k) and "{" not in policy.pattern(k)), "main")
    base_name = policy.pattern(base) if policy.has_kind(base) else base
    if not policy.has_kind("feature") or "feature" not in policy.accepts(base):
        return f"a hotfix fixes, it does not build: keep it to {policy.settings(ID)['max_lines']} lines"
    name = policy.pattern("feature").replace("{slug}", branch.split("-", 1)[-1] or "work")
    if not tip:
        return (
            f"a hotfix fixes, it does not build: move the change to a feature branch off {base_name}, "
            f"`git stash -q && git checkout -q -b {q(name)} origin/{base_name} && git stash pop -q`"
        )
    return (
        f"a hotfix fixes, it does not build: take the branch to a feature branch off {base_name}, "
        f"`git checkout -q -b {q(name)} origin/{base_name} && git cherry-pick origin/{base_name}..{q(branch)}`"
    )
