"""main-direct-commit: every commit on main's first-parent line is a merge, a squash merge or a
version bump (except the push that creates main in a repository that has none)."""

from __future__ import annotations

from policy.commitmsg import squash_record
from policy.config import Policy
from policy.model import Commit, Violation
from policy.rules._base import made, q, violation

ID = "main-direct-commit"

MERGE, SQUASH, BUMP, DIRECT = "merge", "squash", "bump", "direct"


def classify(commit: Commit, policy: Policy) -> str:
    if commit.is_merge:
        return MERGE
    if squash_record(commit.message, policy.settings("squash-merge")["trailer"]):
        return SQUASH
    if len(commit.changes) == 1 and commit.changes[0].path == policy.main_config and commit.changes[0].status == "M":
        return BUMP  # a candidate: version-bump decides whether it really is one
    return DIRECT


def check(commit: Commit, ref: str, main: str, policy: Policy) -> list[Violation]:
    if classify(commit, policy) != DIRECT:
        return []
    return [
        violation(
            ID,
            f"commit was made directly on {main}",
            fix(made(commit.sha), main, policy),
            ref=ref,
            commit=commit.sha,
        )
    ]


def check_merge_shape(commit: Commit, ref: str, main: str) -> list[Violation]:
    """An octopus is not a merge main takes: one source at a time, each proven on its own."""
    if len(commit.parents) <= 2:
        return []
    return [
        violation(
            ID,
            f"merge of {len(commit.parents) - 1} branches at once on {main}",
            f"merge one branch at a time, `git reset -q --hard {commit.parents[0][:12]} && "
            + " && ".join(
                f'git merge --no-ff -q {p[:12]} -m "$(git log -1 --format=%s {commit.sha[:12]})"'
                for p in commit.parents[1:]
            )
            + "`",
            ref=ref,
            commit=commit.sha,
        )
    ]


def check_real_merge(
    commit: Commit, ref: str, main: str, *, brings_nothing: bool, extra_paths: list[str], unrelated: bool = False
) -> list[Violation]:
    """A merge on a line that takes no direct commits is what `git merge` makes of its parents:
    it brings something new, and its tree differs from git's own merge only where that conflicted."""
    redo = (
        f"git reset -q --hard {commit.parents[0][:12]} && git merge --no-ff -q {commit.parents[1][:12]} "
        f'-m "$(git log -1 --format=%s {commit.sha[:12]})"'
    )
    if unrelated:
        return [
            violation(
                ID,
                f"merge joins {commit.parents[1][:7]}, which shares no history with {main}",
                f"drop it, `git reset -q --hard {commit.parents[0][:12]}`; work reaches {main} through a branch "
                f"started from it",
                ref=ref,
                commit=commit.sha,
            )
        ]
    if brings_nothing:
        return [
            violation(
                ID,
                f"merge brings nothing new to {main}: {commit.parents[1][:7]} is already on it",
                f"drop it, `git reset -q --hard {commit.parents[0][:12]}`; changes reach {main} through a branch merge",
                ref=ref,
                commit=commit.sha,
            )
        ]
    if not extra_paths:
        return []
    shown = ", ".join(extra_paths[:3]) + (f" and {len(extra_paths) - 3} more" if len(extra_paths) > 3 else "")
    return [
        violation(
            ID,
            f"merge changes {shown} beyond what merging its parents gives (a change made in the merge itself)",
            f"redo the merge without the extra changes, `{redo}`, and make those on the source branch first",
            ref=ref,
            commit=commit.sha,
            path=extra_paths[0],
        )
    ]


def fix(commit: str, main: str, policy: Policy) -> str:
    """Move the change off main to the branch it belongs on (dev when the policy has one)."""
    plain = [k for k in policy.accepts("main") if policy.has_kind(k) and "{" not in policy.pattern(k)]
    hop = policy.pattern(plain[0]) if plain else None
    kind = next(
        (k for k in ("feature", "hotfix") if policy.has_kind(k) and k in policy.accepts(plain[0] if plain else "main")),
        None,
    )
    rest = f"; a release changes only {policy.version_key} in {policy.main_config}"
    if not commit:
        if hop:
            move = f"git stash -q && git checkout -q {hop} && git stash pop -q"
            return f"{main} takes only merges: commit this on {hop}, `{move}`{rest}"
        if kind:
            name = policy.pattern(kind).replace("{slug}", "from-main")
            move = f"git stash -q && git checkout -q -b {q(name)} && git stash pop -q"
            return f"{main} takes only merges: commit this on a {kind} branch, `{move}`{rest}"
        return f"{main} takes only merges{rest}"
    if kind is None:
        return f"{main} takes only merges: put {main} back, `git reset -q --hard origin/{main}`{rest}"
    name = policy.pattern(kind).replace("{slug}", f"from-{main}-{commit[:7]}")
    into = hop or main
    return (
        f"{main} takes only merges: keep the work on a {kind} branch and put {main} back as the server has it, "
        f"`git branch {q(name)} {commit[:12]} && git checkout -q {main} && git reset -q --hard origin/{main}`; "
        f"then git checkout {into} && policy merge {name}{rest}"
    )
