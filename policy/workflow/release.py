"""`policy release [patch|minor|major]`: raise VERSION, tag the release, take main back into dev.

On main: raise VERSION in the main config (a commit changing only that line, which is what the
version-bump rule lets onto main), tag it `vX.Y.Z` (annotated, as version-tag wants), then
`git checkout dev && git merge main` so dev carries the release.
"""

from __future__ import annotations

from typing import Optional

from policy.naming import Semver, parse_semver
from policy.workflow import yamledit
from policy.workflow.errors import WorkflowError
from policy.workflow.messages import fit, subject_limit
from policy.workflow.steps import Plan, WriteFile, git
from policy.workflow.workspace import Workspace

PARTS = ("patch", "minor", "major")


def bump(version: Semver, part: str) -> Semver:
    if part == "major":
        return Semver(version.major + 1, 0, 0)
    if part == "minor":
        return Semver(version.major, version.minor + 1, 0)
    return Semver(version.major, version.minor, version.patch + 1)


def next_version(current: Semver, part: str, explicit: Optional[str]) -> Semver:
    if explicit is None:
        return bump(current, part)
    wanted = parse_semver(explicit)
    if wanted is None:
        raise WorkflowError(f"--version {explicit!r} is not X.Y.Z")
    if wanted <= current:
        raise WorkflowError(f"--version {wanted} is not higher than the current {current} (version-bump)")
    return wanted


def tag_for(ws: Workspace, version: Semver) -> str:
    template = ws.policy.cfg["version_tag"]
    tag = template.replace("{semver}", str(version))
    if ws.policy.version_of_tag(tag) != str(version):
        raise WorkflowError(f"the version tag pattern {template!r} cannot be filled in for {version}")
    return tag


def release_plan(ws: Workspace, part: str, explicit: Optional[str], to_dev: bool) -> Plan:
    policy = ws.policy
    main = ws.require_branch_of_kind("main")
    dev = ws.branch_of_kind("dev") if to_dev else None
    if to_dev and (dev is None or ws.local(dev) is None):
        dev = None  # a main-only repository (dev: null): nothing to merge back
    ws.require_clean("a release")
    current, text = ws.version_at(f"refs/heads/{main}")
    new = next_version(current, part, explicit)
    tag = tag_for(ws, new)
    if ws.ref_exists(f"refs/tags/{tag}"):
        raise WorkflowError(f"tag {tag} exists already: release another version (--version X.Y.Z)")
    key, path = policy.version_key, policy.main_config
    edit = yamledit.set_value(text, key, yamledit.keep_quotes(str(new)), str(new), path)
    main_sha, dev_sha = ws.local(main) or "", ws.local(dev) if dev else None
    if dev_sha and not ws.is_ancestor(dev_sha, main_sha) and not ws.git.merge_tree(dev_sha, main_sha)[1]:
        raise WorkflowError(
            f"{main} does not merge cleanly into {dev}: merge it by hand first (git checkout {dev} && "
            f"git merge {main}), or release with --no-dev"
        )

    plan = Plan(touches=[f"refs/heads/{main}", f"refs/tags/{tag}"], result=tag)
    if ws.current_branch() != main:
        plan.add(git("checkout", main))
    subject = fit("chore(release): ", [str(new)], subject_limit(policy))
    plan.add(
        WriteFile(path, edit.text, f"{edit.before} -> {edit.after}"),
        git("add", "--", path),
        git("commit", "-m", subject),
        git("tag", "-a", tag, "-m", f"version {new}"),
    )
    if dev:
        plan.touches.append(f"refs/heads/{dev}")
        merge_subject = fit(
            "chore(release): ", [f"merge {main} {tag} into {dev}", f"merge {tag}"], subject_limit(policy)
        )
        plan.add(git("checkout", dev), git("merge", "-m", merge_subject, main))
    plan.push = list(plan.touches)
    return plan
