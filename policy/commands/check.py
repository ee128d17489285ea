"""policy check: the server's verdict for a ref update, a pull request, or the CI event."""

from __future__ import annotations

import os
import sys
from typing import Optional

import click

from policy import report
from policy.ci import MergeTarget, RefTarget, UsageError, detect
from policy.config import RULE_IDS, Policy, PolicyError
from policy.engine import judge, judge_merge
from policy.gitio import Git, GitError
from policy.loading import client_refs, load, server_refs
from policy.model import ZERO, RefUpdate, Violation
from policy.verdict import as_before, clone_state, default_remote, server_state


def full_ref(ref: str) -> str:
    return ref if ref.startswith("refs/") else f"refs/heads/{ref}"


def parse_rules(value: Optional[str]) -> Optional[list[str]]:
    if not value:
        return None
    ids = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [i for i in ids if i not in RULE_IDS]
    if unknown:
        raise click.BadParameter(f"unknown rule id {', '.join(unknown)} (see: policy rules)", param_hint="--rules")
    return ids


def resolve(git: Git, rev: str, what: str) -> str:
    if rev == ZERO or (len(rev) == 40 and set(rev) == {"0"}):
        return ZERO
    sha = git.resolve(rev)
    if sha is None:
        raise UsageError(f"{what} {rev!r} is not in this repository (fetch it, or check the range)")
    return sha


def run_check(
    git: Git,
    *,
    ref: Optional[str],
    old: Optional[str],
    new: Optional[str],
    merge: Optional[str],
    into: Optional[str],
    policy_file: Optional[str],
    remote: Optional[str],
    rules: Optional[list[str]],
    env: dict[str, str],
) -> tuple[str, list[Violation], Policy]:
    if git.is_shallow():
        raise UsageError(
            "this is a shallow clone, so the range cannot be judged: fetch the full history "
            "(actions/checkout: fetch-depth: 0; GitLab: GIT_DEPTH: 0; or git fetch --unshallow)"
        )
    bare = git.is_bare()
    remote = None if bare else (remote or default_remote(git))
    refs = server_refs(git) if bare else client_refs(remote)
    policy = load(git, refs, explicit=policy_file, worktree=None if bare else os.getcwd()).only(rules)
    state = server_state(git) if bare else clone_state(git, remote)

    target: RefTarget | MergeTarget
    if merge or into:
        if not (merge and into):
            raise UsageError("--merge SOURCE needs --into TARGET (and the other way round)")
        target, what = MergeTarget(merge, into), f"merge of {merge} into {into}"
    elif ref or old or new:
        if not (ref and old and new):
            raise UsageError("--ref, --old and --new go together")
        target, what = RefTarget(full_ref(ref), old, new), f"{full_ref(ref)} {_short_rev(old)}..{_short_rev(new)}"
    else:
        what, target = detect(env, git)

    if isinstance(target, MergeTarget):
        source_rev = target.source_rev or _branch_rev(state.branches, target.source)
        target_rev = _branch_rev(state.branches, target.target)
        source_sha = resolve(git, source_rev, "source")
        target_sha = resolve(git, target_rev, "target")
        source_sha, target_sha = _commits(git, [("source", source_rev, source_sha), ("target", target_rev, target_sha)])
        found = judge_merge(git, policy, state, target.source, source_sha, target.target, target_sha)
        return what, found, policy
    old_sha = resolve(git, target.old, "--old")
    new_sha = resolve(git, target.new, "--new")
    if full_ref(target.ref).startswith("refs/heads/"):
        old_sha, new_sha = _commits(git, [("--old", target.old, old_sha), ("--new", target.new, new_sha)])
    update = RefUpdate(full_ref(target.ref), old_sha, new_sha)
    return what, judge(git, policy, as_before(state, update.ref, old_sha), [update]), policy


def _commits(git: Git, revs: list[tuple[str, str, str]]) -> list[str]:
    """A branch points at a commit (git refuses anything else on refs/heads/): an annotated tag
    given for one means the commit it tags; a tree or a blob is a usage error, never an empty range
    that passes. Returns the commits (ZERO stays ZERO)."""
    specs = [f"{sha}^{{commit}}" for _, _, sha in revs if sha != ZERO]
    info = git.object_info(specs)
    out = []
    for what, rev, sha in revs:
        if sha == ZERO:
            out.append(sha)
            continue
        commit = info.get(f"{sha}^{{commit}}")
        if commit is None:
            kind = getattr(git.object_info([sha]).get(sha), "type", None) or "no object"
            raise UsageError(f"{what} {rev!r} is {_a(kind)}, not a commit: a branch points at a commit")
        out.append(commit.sha)
    return out


def _short_rev(rev: str) -> str:
    """A full sha as its short form; a name (origin/main, HEAD~2) as given."""
    return rev[:7] if len(rev) == 40 and all(c in "0123456789abcdef" for c in rev) else rev


def _a(kind: str) -> str:
    return f"an {kind}" if kind[:1] in "aeiou" else f"a {kind}"


def _branch_rev(branches: dict[str, str], name: str) -> str:
    return branches.get(name, name)


@click.command()
@click.option("--ref", metavar="REF", help="Ref being updated: refs/heads/main, refs/tags/v0.2.0, or a branch name.")
@click.option("--old", metavar="REV", help="Where the ref was (40 zeros: a new ref).")
@click.option("--new", metavar="REV", help="Where the ref goes (40 zeros: a deletion).")
@click.option("--merge", "merge", metavar="SOURCE", help="Judge merging branch SOURCE (all its commits) ...")
@click.option("--into", metavar="TARGET", help="... into branch TARGET (a pull request).")
@click.option("--format", "fmt", type=click.Choice(report.FORMATS), default="text", show_default=True)
@click.option("--rules", "rules", metavar="ID,ID", help="Judge only these rules (default: all enabled ones).")
@click.option("--policy", "policy_file", metavar="FILE", help="Policy file to use instead of main's.")
@click.option("--remote", metavar="NAME", help="Remote whose branches are the server's (default: origin).")
def check(
    ref: Optional[str],
    old: Optional[str],
    new: Optional[str],
    merge: Optional[str],
    into: Optional[str],
    fmt: str,
    rules: Optional[str],
    policy_file: Optional[str],
    remote: Optional[str],
) -> None:
    """The server's verdict, run in any clone.

    \b
    policy check --ref REF --old REV --new REV   a ref update (a push)
    policy check --merge SOURCE --into TARGET    a pull / merge request
    policy check                                 in CI: the event (GitHub Actions,
                                                 GitLab CI); elsewhere: the current
                                                 branch against its upstream

    Exit 0: accepted; 1: violations; 2: usage, repository or policy-file error.
    """
    try:
        what, found, _ = run_check(
            Git(), ref=ref, old=old, new=new, merge=merge, into=into, policy_file=policy_file,
            remote=remote, rules=parse_rules(rules), env=dict(os.environ),
        )  # fmt: skip
    except (UsageError, PolicyError, GitError) as exc:
        click.echo(f"branch-policy: {exc}", err=True)
        sys.exit(2)
    if fmt == "text" and found:
        click.echo(f"branch-policy: {what}: refused", err=True)
    click.echo(report.render(found, fmt))
    sys.exit(1 if found else 0)
