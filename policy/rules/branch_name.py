"""branch-name: a pushed or committed-on branch matches one of the branch kinds."""

from __future__ import annotations

from policy.config import Policy
from policy.model import Violation
from policy.naming import example
from policy.rules._base import q, slug_of, violation

ID = "branch-name"
RUN_KINDS = ("task", "debug")  # started by `policy task start` / `policy debug start`


def check(ref: str, branch: str, policy: Policy, commit: str = "") -> list[Violation]:
    if policy.allowed_name(branch):
        return []
    return [violation(ID, f"branch {branch!r} matches no branch kind", fix(branch, policy), ref=ref, commit=commit)]


def fix(branch: str, policy: Policy) -> str:
    """A run (task, debug) is started by the workflow, which names it from VERSION and the time;
    any other branch is renamed after the kind its name starts like."""
    slug = slug_of(branch)
    lower = branch.lower()
    for kind in RUN_KINDS:
        if policy.has_kind(kind) and lower.startswith(kind):
            return (
                f"a {kind} run is named from VERSION and the time: start it with "
                f"`policy {kind} start {slug} --from main` (then bring its files over with "
                f"git checkout {q(branch)} -- PATH)"
            )
    plain = [k for k in policy.kinds if "{semver}" not in policy.pattern(k) and "{time}" not in policy.pattern(k)]
    slugged = next((k for k in plain if "{slug}" in policy.pattern(k)), "")
    kind = next((k for k in plain if lower.startswith(k)), slugged)
    if not kind:
        names = ", ".join(example(policy.pattern(k)) for k in policy.kinds)
        return f"rename it to a name like {names}"
    name = policy.pattern(kind).replace("{slug}", slug)
    names = ", ".join(policy.pattern(k) for k in policy.kinds)
    return f"rename it: `git branch -m {q(branch)} {q(name)}` (names: {names})"
