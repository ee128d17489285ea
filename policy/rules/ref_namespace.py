"""ref-namespace: only branches and tags are pushed, except the namespaces the policy allows.

A pushed `refs/replace/<sha>` would make git show another commit in place of the one a branch
stores; notes and custom namespaces carry blobs every mirror downloads. The hosting platforms'
own namespaces (merge requests, keep-around, pull requests) are allowed by default; whatever is
allowed, tags included, is judged for content like a branch."""

from __future__ import annotations

from typing import Optional

from policy.config import Policy
from policy.model import RefUpdate, Violation
from policy.rules._base import q, violation

ID = "ref-namespace"


def allowed(ref: str, policy: Policy) -> bool:
    return ref.startswith(("refs/heads/", "refs/tags/", *policy.settings(ID)["allow"]))


def check(u: RefUpdate, policy: Policy) -> Optional[Violation]:
    if u.deleted or allowed(u.ref, policy):
        return None
    return violation(
        ID,
        f"{u.ref} is outside refs/heads/ and refs/tags/, and the policy allows no such namespace",
        f"leave {u.ref} in your clone and push your branch alone, `git push origin HEAD` (other branches "
        "and tags by name: git push --mirror sends refs like this one too); a namespace the server needs "
        "is allowed by an admin in rules.ref-namespace.allow of main's .branch-policy.yaml",
        ref=u.ref,
        commit=u.new,
    )


def check_target(u: RefUpdate, object_type: Optional[str]) -> Optional[Violation]:
    """A tag (or an allowed ref) must lead to a commit, not to a bare tree or blob."""
    if object_type == "commit":
        return None
    what = f"a {object_type}" if object_type else "a missing object"
    return violation(
        ID,
        f"{u.ref} points at {what}, not at a commit",
        f"nothing was stored: tag a commit instead, `git tag -d {q(u.ref.rsplit('/', 1)[-1])}`, then "
        "git tag -a NAME COMMIT",
        ref=u.ref,
        commit=u.new,
    )
