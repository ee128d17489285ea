"""version-bump: a non-merge commit on main whose only change is VERSION in the main config,
raised to a higher semver."""

from __future__ import annotations

import re
from typing import Optional

from policy.config import Policy
from policy.model import Commit, Violation
from policy.naming import Semver, parse_semver
from policy.rules._base import violation

ID = "version-bump"


def read_version(text: Optional[bytes], key: str) -> Optional[Semver]:
    if text is None:
        return None
    from policy.rules.task_config import load_yaml

    data, error = load_yaml(text)
    return parse_semver(data.get(key)) if error is None and isinstance(data, dict) else None


def problems(old: Optional[bytes], new: Optional[bytes], policy: Policy) -> list[str]:
    key = policy.version_key
    before, after = read_version(old, key), read_version(new, key)
    if before is None or after is None:
        return [f"{policy.main_config} has no readable {key} before or after the commit"]
    found = []
    if after <= before:
        found.append(f"{key} goes from {before} to {after}, not up")
    version_line = re.compile(rf"^\s*{re.escape(key)}\s*:")
    old_lines = (old or b"").decode("utf-8", "replace").splitlines()
    new_lines = (new or b"").decode("utf-8", "replace").splitlines()
    others = len(old_lines) != len(new_lines) or any(
        a != b and not (version_line.match(a) and version_line.match(b)) for a, b in zip(old_lines, new_lines)
    )
    if others:
        found.append(f"it changes more of {policy.main_config} than the {key} line")
    return found


def check(commit: Commit, ref: str, old: Optional[bytes], new: Optional[bytes], policy: Policy) -> list[Violation]:
    found = problems(old, new, policy)
    if not found:
        return []
    before, after = read_version(old, policy.version_key), read_version(new, policy.version_key)
    release = f"policy release --version {after}" if before and after and after > before else "policy release"
    parent = commit.parents[0][:12] if commit.parents else "HEAD~1"
    return [
        violation(
            ID,
            "not a version bump: " + "; ".join(found),
            f"a release changes only the {policy.version_key} line, upward: drop the commit and release, "
            f"`git reset -q --hard {parent} && {release}`; its other changes reach main through a branch "
            f"(git show {commit.sha[:12]} has them)",
            ref=ref,
            commit=commit.sha,
            path=policy.main_config,
        )
    ]
