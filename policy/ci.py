"""What `policy check` judges when it is given no ref options: the CI system's event, or the current
branch against its upstream. Unknown or unreadable ranges are errors, never a silent pass."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple, Optional

from policy.gitio import Git
from policy.model import ZERO


class UsageError(Exception):
    """The check cannot know what to judge (exit 2)."""


class RefTarget(NamedTuple):
    ref: str
    old: str
    new: str


class MergeTarget(NamedTuple):
    source: str  # branch name
    target: str  # branch name
    source_rev: Optional[str] = None  # when the source branch is not a ref here (a fork's PR)


def detect(env: Mapping[str, str], git: Git) -> tuple[str, RefTarget | MergeTarget]:
    """(description, what to judge)."""
    if env.get("GITHUB_ACTIONS") == "true":
        return _github(env)
    if env.get("GITLAB_CI") == "true":
        return _gitlab(env)
    return _upstream(git)


def _github(env: Mapping[str, str]) -> tuple[str, RefTarget | MergeTarget]:
    event_name = env.get("GITHUB_EVENT_NAME", "")
    event: dict = {}
    path = env.get("GITHUB_EVENT_PATH")
    if path:
        import json  # only here: policy check runs outside GitHub more often than in it

        try:
            with open(path, encoding="utf-8") as handle:
                event = json.load(handle)
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read GITHUB_EVENT_PATH {path}: {exc}") from None
        if not isinstance(event, dict):
            raise UsageError(f"GITHUB_EVENT_PATH {path} does not hold a JSON object")
    if event_name in ("pull_request", "pull_request_target"):
        head, base = env.get("GITHUB_HEAD_REF"), env.get("GITHUB_BASE_REF")
        if not head or not base:
            raise UsageError("GITHUB_HEAD_REF / GITHUB_BASE_REF are not set for this pull_request event")
        sha = _text(event, "pull_request", "head", "sha")
        return f"GitHub pull request {head} -> {base}", MergeTarget(head, base, sha)
    if event_name == "push":
        ref = _text(event, "ref") or env.get("GITHUB_REF")
        before, after = _text(event, "before"), _text(event, "after") or env.get("GITHUB_SHA")
        if not ref or not before or not after:
            raise UsageError("the GitHub push event lacks ref/before/after")
        return f"GitHub push to {ref}", RefTarget(ref, before, after)
    raise UsageError(f"GitHub event {event_name or '(none)'} is not a push or pull_request: pass --ref/--old/--new")


def _text(event: object, *keys: str) -> Optional[str]:
    """event[k1][k2]... if it is text, else None (an event file is input, not a trusted shape)."""
    for key in keys:
        event = event.get(key) if isinstance(event, dict) else None
    return event if isinstance(event, str) and event else None


def _gitlab(env: Mapping[str, str]) -> tuple[str, RefTarget | MergeTarget]:
    if env.get("CI_MERGE_REQUEST_IID"):
        source = env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")
        target = env.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME")
        if not source or not target:
            raise UsageError("CI_MERGE_REQUEST_SOURCE/TARGET_BRANCH_NAME are not set")
        sha = env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA") or env.get("CI_COMMIT_SHA")
        return f"GitLab merge request {source} -> {target}", MergeTarget(source, target, sha or None)
    new = env.get("CI_COMMIT_SHA")
    if not new:
        raise UsageError("CI_COMMIT_SHA is not set")
    tag = env.get("CI_COMMIT_TAG")
    branch = env.get("CI_COMMIT_BRANCH") or env.get("CI_COMMIT_REF_NAME")
    ref = f"refs/tags/{tag}" if tag else f"refs/heads/{branch}"
    old = env.get("CI_COMMIT_BEFORE_SHA") or ZERO
    if tag:  # CI_COMMIT_SHA is the tagged commit; the ref holds the tag object (annotated or not)
        new = ref
    return f"GitLab push to {ref}", RefTarget(ref, old, new)


def _upstream(git: Git) -> tuple[str, RefTarget | MergeTarget]:
    head = git.try_run("symbolic-ref", "-q", "HEAD")
    if not head:
        raise UsageError("HEAD is detached and no CI is detected: pass --ref/--old/--new or --merge/--into")
    ref = head.decode().strip()
    upstream = git.try_run("rev-parse", "--verify", "--quiet", "@{upstream}")
    new = git.run("rev-parse", "HEAD").decode().strip()
    if not upstream:
        raise UsageError(
            f"{ref} has no upstream: pass --ref/--old/--new or --merge SOURCE --into TARGET "
            "(or set one: git push -u origin <branch>)"
        )
    return f"{ref} against its upstream", RefTarget(ref, upstream.decode().strip(), new)
