"""policy check: the server's verdict for a ref update, a pull request, or the CI event.

A well-formed command line is read here without click (`parse_argv`): a check over a long range
starts git sooner, and a CI job pays for no import it does not use. Anything else (--help, a typo,
a missing value) goes to the click command in policy.commands.checkcli, which explains it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Optional, TextIO

from policy import report
from policy.ci import MergeTarget, RefTarget, UsageError, detect
from policy.config import RULE_IDS, Policy, PolicyError
from policy.engine import judge, judge_merge
from policy.gitio import CatFile, Git, GitError, is_zero
from policy.loading import client_refs, from_objects, read_explicit, server_refs, specs
from policy.model import ZERO, Commit, Incomplete, RefUpdate, Violation
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


class ProgressGit(Git):
    """Git whose walks count the commits as they stream past the engine, on stderr (a terminal):
    a check over a long range (a bootstrap of 100k commits) shows it is moving. The engine is
    untouched: it reads the same commits from the same walk."""

    EVERY = 0.1  # seconds between two updates of the line

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        super().__init__()
        self.stream = stream
        self.walked = 0

    def walk(self, include: Sequence[str], exclude: Sequence[str], paths: bool = True) -> Iterator[Commit]:
        shown = 0.0
        for commit in super().walk(include, exclude, paths):
            self.walked += 1
            if not self.walked & 255 or self.walked == 1:
                now = time.monotonic()
                if now - shown >= self.EVERY:
                    self._show()
                    shown = now
            yield commit
        self._show()
        self.stream.write("\r\x1b[K")  # the verdict starts on a clean line
        self.stream.flush()

    def _show(self) -> None:
        self.stream.write(f"\rbranch-policy: {self.walked:,} commits walked")
        self.stream.flush()


def main(options: dict[str, str]) -> int:
    """Run the check and print the verdict. Exit 0: accepted; 1: violations; 2: usage,
    repository or policy-file error. On a terminal, long walks show their progress on stderr."""
    fmt = options.get("--format", "text")
    git = ProgressGit() if sys.stderr.isatty() else Git()
    try:
        what, found, _ = run_check(
            git, ref=options.get("--ref"), old=options.get("--old"), new=options.get("--new"),
            merge=options.get("--merge"), into=options.get("--into"), policy_file=options.get("--policy"),
            remote=options.get("--remote"), rules=rule_ids(options.get("--rules")), env=dict(os.environ),
        )  # fmt: skip
    except (UsageError, PolicyError, GitError, Incomplete) as exc:
        print(f"branch-policy: {exc}", file=sys.stderr)
        return 2
    if fmt == "text" and found:
        print(f"branch-policy: {what}: refused", file=sys.stderr)
    print(report.render(found, fmt))
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
) -> tuple[str, list[Violation], Policy]:
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
            found_merge = judge_merge(git, policy, state, target.source, source_sha, target.target, target_sha)
            return what, found_merge, policy
        update_ref = full_ref(target.ref)
        commits = update_ref.startswith("refs/heads/")
        old_sha, new_sha = _resolve(objects, [("--old", target.old), ("--new", target.new)], commits)
    update = RefUpdate(update_ref, old_sha, new_sha)
    return what, judge(git, policy, as_before(state, update.ref, old_sha), [update]), policy


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
