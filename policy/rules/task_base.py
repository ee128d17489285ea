"""task-base: a task branch starts from main or another task branch, and the version in its name
equals VERSION in the main config at the commit it starts from."""

from __future__ import annotations

from typing import Optional

from policy.config import Policy
from policy.model import Violation
from policy.naming import Semver
from policy.rules._base import violation

ID = "task-base"


def check(
    ref: str,
    branch: str,
    base: Optional[str],
    base_version: Optional[Semver],
    policy: Policy,
) -> list[Violation]:
    """`base`: the commit the branch starts from (None: its history reaches no main/task commit)."""
    origins = " or ".join(policy.settings(ID)["from"])
    if base is None:
        return [
            violation(
                ID,
                f"task branch {branch} does not start from {origins}",
                restart(branch, policy),
                ref=ref,
            )
        ]
    named = policy.name_field(branch, "semver")
    if named is None or base_version is None or str(base_version) != named:
        have = str(base_version) if base_version else f"no {policy.version_key}"
        return [
            violation(
                ID,
                f"task branch {branch} is named for {named} but starts at {base[:7]} where "
                f"{policy.main_config} says {have}",
                restart(branch, policy),
                ref=ref,
                commit=base,
            )
        ]
    return []


def _slug(branch: str, policy: Policy) -> str:
    return policy.name_field(branch, "slug") or "run"


def restart(branch: str, policy: Policy) -> str:
    """A run started again from main (named from VERSION there), with the old run's files moved into its
    folder and committed with the old branch's last message."""
    here = f'{policy.tasks_dir}/"$(git branch --show-current)"/'
    strip = policy.tasks_dir.count("/") + 2
    return (
        f"start the run again from main and bring its files over, `policy task start {_slug(branch, policy)} "
        f"--from main && git archive {branch} {policy.tasks_dir}/{branch}/ | tar -x --strip-components={strip} "
        f"-C {here} && git add {here} && git commit -q -C {branch}`"
    )
