"""policy check: the server's verdict for a ref update, a pull request, or the CI event.

A well-formed command line is read here without click (`parse_argv`): a check over a long range
starts git sooner, and a CI job pays for no import it does not use. Anything else (--help, a typo,
a missing value) goes to the click command in policy.commands.checkcli, which explains it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Optional

from policy import report
from policy.ci import MergeTarget, RefTarget, UsageError, detect
from policy.config import RULE_IDS, Policy, PolicyError
from policy.engine import Judge, merge_judge
from policy.gitio import CatFile, Git, GitError, is_zero
from policy.loading import client_refs, from_objects, read_explicit, server_refs, specs
from policy.model import ZERO, Incomplete, RefUpdate, Violation
from policy.verdict import as_before, clone_state, pick_remote, server_state

OPTIONS = ("--ref", "--old", "--new", "--merge", "--into", "--format", "--rules", "--policy", "--remote")


def parse_argv(args: Sequence[str]) -> Optional[dict[str, str]]:
    """{option: value} for a command line made only of known options, each given once with a
    value (`--opt VALUE` or `--opt=VALUE`) that click would read the same way; else None."""
    found: dict[str, str] = {}
    rest = list(args)
    while rest:
        name, eq, value = rest.pop(0).partition("=")
        if name not in OPTIONS or name in found:
            return None
        if not eq:
            if not rest or rest[0].startswith("-"):
                return None
            value = rest.pop(0)
        found[name] = value
    if found.get("--format", "text") not in report.FORMATS:
        return None
    try:
        rule_ids(found.get("--rules"))
    except UsageError:
        return None
    return found


def rule_ids(value: Optional[str]) -> Optional[list[str]]:
    """`--rules a,b` as ids; UsageError names the unknown ones."""
    if not value:
        return None
    ids = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [i for i in ids if i not in RULE_IDS]
    if unknown:
        raise UsageError(f"unknown rule id {', '.join(unknown)} (see: policy rules)")
    return ids


def main(options: dict[str, str]) -> int:
    """Run the check and print the verdict. Exit 0: accepted; 1: violations; 2: usage,
    repository or policy-file error."""
    fmt = options.get("--format", "text")
    try:
        what, found, _, judged = run_check(
            Git(), ref=options.get("--ref"), old=options.get("--old"), new=options.get("--new"),
            merge=options.get("--merge"), into=options.get("--into"), policy_file=options.get("--policy"),
            remote=options.get("--remote"), rules=rule_ids(options.get("--rules")), env=dict(os.environ),
        )  # fmt: skip
    except (UsageError, PolicyError, GitError, Incomplete) as exc:
        print(f"branch-policy: {exc}", file=sys.stderr)
        return 2
    if fmt == "text" and found:
        print(f"branch-policy: {what}: refused", file=sys.stderr)
    print(report.render(found, fmt, judged=judged))
    return 1 if found else 0


def full_ref(ref: str) -> str:
    return ref if ref.startswith("refs/") else f"refs/heads/{ref}"


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
) -> tuple[str, list[Violation], Policy, report.Judged]:
    # What the repository is, its remotes and its refs: three short git processes, side by side.
    layout = git.background("rev-parse", "--is-shallow-repository", "--is-bare-repository")
    remotes = git.background("remote")
    listed = git.refs_later("refs/heads/", "refs/tags/", "refs/remotes/")
    shallow, bare = (line.strip() == b"true" for line in layout().splitlines()[:2])
    names, all_refs = remotes().decode("utf-8", "surrogateescape").split(), listed()
    if shallow:
        raise UsageError(
            "this is a shallow clone, so the range cannot be judged: fetch the full history "
            "(actions/checkout: fetch-depth: 0; GitLab: GIT_DEPTH: 0; or git fetch --unshallow)"
        )
    remote = None if bare else (remote or pick_remote(names))
    state = server_state(git, all_refs) if bare else clone_state(git, remote, all_refs)
    with git.session() as objects:  # the policy, then the revisions: one cat-file
        explicit = read_explicit(policy_file)
        refs = server_refs(git) if bare else client_refs(remote)
        found = {} if explicit else objects.read(specs(refs))
        policy = (explicit or from_objects(found, refs, None if bare else os.getcwd())).only(rules)

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
            source_rev = target.source_rev or state.branches.get(target.source, target.source)
            target_rev = state.branches.get(target.target, target.target)
            source_sha, target_sha = _resolve(objects, [("source", source_rev), ("target", target_rev)], True)
            merged = merge_judge(git, policy, state, target.source, source_sha, target.target, target_sha)
            label = f"{target.source} into {target.target}"
            judged = report.Judged(label, target_sha, source_sha, merged.commits_judged)
            return what, merged.out, policy, judged
        update_ref = full_ref(target.ref)
        commits = update_ref.startswith("refs/heads/")
        old_sha, new_sha = _resolve(objects, [("--old", target.old), ("--new", target.new)], commits)
    update = RefUpdate(update_ref, old_sha, new_sha)
    judge = Judge(git, policy, as_before(state, update.ref, old_sha), [update])
    found_update = judge.run()
    label = update_ref.split("/", 2)[2] if update_ref.startswith(("refs/heads/", "refs/tags/")) else update_ref
    return what, found_update, policy, report.Judged(label, old_sha, new_sha, judge.commits_judged)


def _resolve(objects: CatFile, revs: list[tuple[str, str]], commits: bool) -> list[str]:
    """Each (what, rev) as a full sha (40 zeros stay zeros), in one cat-file round trip. With
    `commits` (a branch, which git lets point at a commit only), an annotated tag means the commit
    it tags, and a tree or a blob is a usage error, never an empty range that passes."""
    asked = [rev for _, rev in revs if not is_zero(rev)]
    if any("\n" in rev for rev in asked):
        bad = next(what for what, rev in revs if "\n" in rev)
        raise UsageError(f"{bad}: a revision cannot span lines")
    info = objects.info([spec for rev in asked for spec in (f"{rev}^{{object}}", f"{rev}^{{commit}}")])
    out = []
    for what, rev in revs:
        if is_zero(rev):
            out.append(ZERO)
            continue
        found = info.get(f"{rev}^{{object}}")
        if found is None:
            raise UsageError(f"{what} {rev!r} is not in this repository (fetch it, or check the range)")
        if not commits:
            out.append(found.sha)
            continue
        commit = info.get(f"{rev}^{{commit}}")
        if commit is None:
            raise UsageError(f"{what} {rev!r} is {_a(found.type)}, not a commit: a branch points at a commit")
        out.append(commit.sha)
    return out


def _short_rev(rev: str) -> str:
    """A full sha as its short form; a name (origin/main, HEAD~2) as given."""
    return rev[:7] if len(rev) == 40 and all(c in "0123456789abcdef" for c in rev) else rev


def _a(kind: str) -> str:
    return f"an {kind}" if kind[:1] in "aeiou" else f"a {kind}"
