"""What `policy check` judges when it is given no ref options: the CI system's event, or the current
branch against its upstream. Unknown or unreadable ranges are errors, never a silent pass.

In CI the check runs after the push, on a server where no hook ran: what a refused push brought
stays there. So the CI adapter differs from the server's in three ways (see `policy.commands.check`):
only protected branches (main, dev: updated by checked pull requests alone) hold judged commits;
the policy is main's as it was before the event; and a fork's branch is never one of ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple, Optional

from policy.config import POLICY_FILE, Policy, parse_policy_bytes
from policy.errors import BranchPolicyError
from policy.gitio import CatFile, Git
from policy.model import ZERO


class UsageError(BranchPolicyError):
    """The check cannot know what to judge (exit 2)."""


class RefTarget(NamedTuple):
    ref: str
    old: str
    new: str


class MergeTarget(NamedTuple):
    source: str  # branch name
    target: str  # branch name
    source_rev: Optional[str] = None  # when the source branch is not a ref here (a fork's PR)
    fork: Optional[str] = None  # the source's repository, when it is not this one
    title: Optional[str] = None  # the request's title: the merge commit's message (README: In CI)
    number: Optional[str] = None  # GitHub's merge commit title is "<title> (#<number>)"
    fork_url: Optional[str] = None  # where the fork's branch can be fetched from


class Event(NamedTuple):
    what: str  # for the report: "GitHub push to refs/heads/dev", ...
    target: RefTarget | MergeTarget
    default_branch: Optional[str] = None  # the platform's default branch (a hint where main is)


def platform(env: Mapping[str, str]) -> Optional[str]:
    """ "GitHub Actions", "GitLab CI", or None outside CI."""
    if env.get("GITHUB_ACTIONS") == "true":
        return "GitHub Actions"
    if env.get("GITLAB_CI") == "true":
        return "GitLab CI"
    return None


def detect(env: Mapping[str, str], git: Git) -> Event:
    if env.get("GITHUB_ACTIONS") == "true":
        return _github(env)
    if env.get("GITLAB_CI") == "true":
        return _gitlab(env)
    what, target = _upstream(git)
    return Event(what, target)


def default_branch(env: Mapping[str, str]) -> Optional[str]:
    """The platform's default branch when it is known without the event file (GitLab)."""
    return env.get("CI_DEFAULT_BRANCH") or None


# --------------------------------------------------------------------------- GitHub Actions


def _github(env: Mapping[str, str]) -> Event:
    event_name = env.get("GITHUB_EVENT_NAME", "")
    if event_name not in ("push", "pull_request", "pull_request_target"):
        raise UsageError(
            f"GitHub event {event_name or '(none)'} is not supported (only push and pull_request): "
            "pass --ref/--old/--new or --merge/--into"
        )
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        raise UsageError(f"this GitHub {event_name} run has no event file (GITHUB_EVENT_PATH is not set): unsupported")
    import json  # only here: policy check runs outside GitHub more often than in it

    try:
        with open(path, encoding="utf-8") as handle:
            event = json.load(handle)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read GITHUB_EVENT_PATH {path}: {_one_line(exc)}") from None
    except RecursionError:
        raise UsageError(f"cannot read GITHUB_EVENT_PATH {path}: nested too deep") from None
    if not isinstance(event, dict):
        raise UsageError(f"GITHUB_EVENT_PATH {path} does not hold a JSON object")
    repository = _text(event, "repository", "full_name")
    default = _text(event, "repository", "default_branch")
    if event_name == "push":
        ref, before, after = _text(event, "ref"), _text(event, "before"), _text(event, "after")
        if not ref or not before or not after or "\n" in ref:
            raise UsageError("the GitHub push event lacks ref/before/after")
        return Event(f"GitHub push to {ref}", RefTarget(ref, before, after), default)
    pr = event.get("pull_request")
    head, base = _text(pr, "head", "ref"), _text(pr, "base", "ref")
    sha = _text(pr, "head", "sha")
    if not head or not base or not sha or not repository:
        raise UsageError(f"the GitHub {event_name} event lacks pull_request.head/base or repository: unsupported")
    head_repo = _text(pr, "head", "repo", "full_name")  # null once the fork is deleted
    fork = None if head_repo == repository else (head_repo or "a deleted fork")
    number = _get(pr, "number")
    title = _text(pr, "title")
    source = f"{fork}:{head}" if fork else head
    server = env.get("GITHUB_SERVER_URL") or "https://github.com"
    url = f"{server}/{head_repo}.git" if fork and head_repo else None
    number_text = str(number) if isinstance(number, int) else None
    return Event(
        f"GitHub pull request {source} -> {base}", MergeTarget(head, base, sha, fork, title, number_text, url), default
    )


def _get(event: object, *keys: str) -> object:
    for key in keys:
        event = event.get(key) if isinstance(event, dict) else None
    return event


def _text(event: object, *keys: str) -> Optional[str]:
    """event[k1][k2]... if it is text, else None (an event file is input, not a trusted shape)."""
    found = _get(event, *keys)
    return found if isinstance(found, str) and found else None


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200]


# --------------------------------------------------------------------------- GitLab CI


def _gitlab(env: Mapping[str, str]) -> Event:
    source = env.get("CI_PIPELINE_SOURCE", "")
    default = default_branch(env)
    if source == "external_pull_request_event":
        raise UsageError(
            "GitLab external pull request pipelines are not supported: judge the pull request where it "
            "lives (GitHub Actions), or open a merge request"
        )
    if env.get("CI_MERGE_REQUEST_IID") or source == "merge_request_event":
        return _gitlab_merge_request(env, default)
    if source != "push":
        raise UsageError(
            f"a GitLab {source or '(unknown source)'} pipeline names no pushed range "
            "(CI_PIPELINE_SOURCE is not push nor merge_request_event): run the job in push and merge "
            "request pipelines only (README: In CI)"
        )
    new = env.get("CI_COMMIT_SHA")
    if not new:
        raise UsageError("CI_COMMIT_SHA is not set")
    tag = env.get("CI_COMMIT_TAG")
    if tag:  # GitLab gives no old value for a tag: judged as a new one (README: protect v* tags)
        ref = f"refs/tags/{tag}"
        return Event(f"GitLab push of {ref}", RefTarget(ref, ZERO, ref), default)
    branch = env.get("CI_COMMIT_BRANCH")
    if not branch:
        raise UsageError("this GitLab job has neither CI_COMMIT_BRANCH nor CI_COMMIT_TAG: unsupported")
    old = env.get("CI_COMMIT_BEFORE_SHA")
    if not old:
        raise UsageError("CI_COMMIT_BEFORE_SHA is not set for this GitLab push pipeline")
    ref = f"refs/heads/{branch}"
    return Event(f"GitLab push to {ref}", RefTarget(ref, old, new), default)


def _gitlab_merge_request(env: Mapping[str, str], default: Optional[str]) -> Event:
    source = env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")
    target = env.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME")
    if not source or not target:
        raise UsageError("CI_MERGE_REQUEST_SOURCE/TARGET_BRANCH_NAME are not set")
    project, source_project = env.get("CI_PROJECT_ID"), env.get("CI_MERGE_REQUEST_SOURCE_PROJECT_ID")
    if not project or not source_project:
        raise UsageError("CI_PROJECT_ID / CI_MERGE_REQUEST_SOURCE_PROJECT_ID are not set: cannot tell a fork")
    fork = None
    if source_project != project:
        fork = env.get("CI_MERGE_REQUEST_SOURCE_PROJECT_PATH") or f"project {source_project}"
    # merged results pipelines run on the merge commit: the source's own tip is SOURCE_BRANCH_SHA
    sha = env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA") or env.get("CI_COMMIT_SHA")
    if not sha:
        raise UsageError("CI_COMMIT_SHA is not set")
    title = env.get("CI_MERGE_REQUEST_TITLE") or None
    url = env.get("CI_MERGE_REQUEST_SOURCE_PROJECT_URL") if fork else None
    label = f"{fork}:{source}" if fork else source
    merge = MergeTarget(source, target, sha, fork, title, None, url)
    return Event(f"GitLab merge request {label} -> {target}", merge, default)


# --------------------------------------------------------------------------- elsewhere


def _upstream(git: Git) -> tuple[str, RefTarget | MergeTarget]:
    head = git.try_run("symbolic-ref", "-q", "HEAD")
    if not head:
        raise UsageError("HEAD is detached and no CI is detected: pass --ref/--old/--new or --merge/--into")
    ref = head.decode().strip()
    upstream = git.try_run("rev-parse", "--verify", "--quiet", "@{upstream}")
    new = git.run("rev-parse", "HEAD").decode().strip()
    if not upstream:
        # judged as the push would: the remote's branch of that name moves, or a new one is created
        name = ref[len("refs/heads/") :]
        remote = git.try_run("rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{name}")
        if remote:
            return f"{ref} against origin/{name} (no upstream set)", RefTarget(ref, remote.decode().strip(), new)
        return f"{ref} as the new branch a push to origin would create", RefTarget(ref, ZERO, new)
    return f"{ref} against its upstream", RefTarget(ref, upstream.decode().strip(), new)


# --------------------------------------------------------------------------- the policy


def policy_before(objects: CatFile, branches: dict[str, str], default: Optional[str]) -> Policy:
    """The policy as main had it before the event, main found as the policy defines it: the
    branch whose own policy file (or the defaults, without one) says it is of kind main. Asked
    first: the platform's default branch and the names the defaults call main, then the names
    each policy read so far calls main. No branch at all (the event creates the first): the
    defaults, as on a server. Never the judged commit nor the working tree."""
    if not branches:
        return Policy.defaults()
    guides, tried, gone = [Policy.defaults()], [], []
    first = [default] if default else []
    while guides:
        named = first + [name for guide in guides for name in sorted(branches) if guide.kind_of(name) == "main"]
        fresh = [name for name in dict.fromkeys(named) if name in branches and name not in tried]
        first, guides = [], []
        specs = [spec for name in fresh for spec in (f"{branches[name]}^{{commit}}", f"{branches[name]}:{POLICY_FILE}")]
        found = objects.read(specs)
        for name in fresh:
            tried.append(name)
            if found.get(f"{branches[name]}^{{commit}}") is None:
                gone.append(name)  # rewritten by a force-push: main only if nothing else is
                continue
            blob = found.get(f"{branches[name]}:{POLICY_FILE}")
            policy = Policy.defaults() if blob is None else parse_policy_bytes(blob, f"{name}:{POLICY_FILE}")
            if policy.kind_of(name) == "main":
                return policy
            guides.append(policy)
    if gone:
        raise UsageError(
            f"cannot read the policy: {gone[0]} was at {branches[gone[0]][:12]} before this event, and this "
            "clone does not have that commit (rewritten by a force-push?)"
        )
    looked = f" (looked at {', '.join(tried)})" if tried else ""
    raise UsageError(
        f"cannot find the policy: no branch before this event is main as its own {POLICY_FILE} defines it"
        f"{looked}; push main first, or pass --policy FILE"
    )
