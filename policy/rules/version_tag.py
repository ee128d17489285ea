"""version-tag: a tag vX.Y.Z is annotated, points at a commit on main, and the main config at that
commit says VERSION: X.Y.Z."""

from __future__ import annotations

from typing import Optional

from policy.config import Policy
from policy.model import Violation
from policy.naming import Semver
from policy.rules._base import violation

ID = "version-tag"


def check(
    ref: str,
    tag: str,
    version: str,
    *,
    annotated: bool,
    commit: Optional[str],
    on_main: bool,
    config_version: Optional[Semver],
    policy: Policy,
) -> list[Violation]:
    found = []
    main = policy.pattern("main")
    if not annotated:
        found.append(
            (
                f"version tag {tag} is not annotated",
                f"make it annotated, on the same commit, "
                f"`git tag -f -a {tag} {commit[:12] if commit else tag} -m 'version {version}'`",
            )
        )
    if commit is None:
        found.append(
            (
                f"version tag {tag} does not point at a commit",
                f"tag the release commit on main, `git tag -f -a {tag} {main} -m 'version {version}'`",
            )
        )
    else:
        if not on_main:
            found.append(
                (
                    f"version tag {tag} points at {commit[:7]}, which is not on main",
                    f"tag the release commit on main, `git tag -f -a {tag} {main} -m 'version {version}'`, "
                    f"and push {main} with it",
                )
            )
        if config_version is None or str(config_version) != version:
            have = str(config_version) if config_version else f"no {policy.version_key}"
            found.append(
                (
                    f"version tag {tag} but {policy.main_config} at {commit[:7]} says {have}",
                    f"release it instead, which raises {policy.version_key} to {version} on {main} and tags that "
                    f"commit, `git tag -d {tag} && git checkout -q {main} && policy release --version {version}`",
                )
            )
    return [violation(ID, message, hint, ref=ref, commit=commit or "") for message, hint in found]
