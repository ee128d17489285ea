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
from typing import NamedTuple, Optional, TextIO

from policy import ci, report
from policy.ci import MergeTarget, RefTarget, UsageError, policy_before
from policy.config import RULE_IDS, Policy, PolicyError
from policy.engine import Judge, RepoState, merge_judge
from policy.gitio import CatFile, Git, GitError, is_zero
from policy.loading import ENV_FILE, client_refs, from_objects, read_explicit, read_file, server_refs, specs
from policy.model import ZERO, Commit, Incomplete, RefUpdate, Violation, branch_name
from policy.naming import example
from policy.rules import commit_message, protected_ref, task_type
from policy.verdict import as_before, clone_state, pick_remote, server_state


class Option(NamedTuple):
    """One option of `policy check`, defined once: read here (`parse_argv`), and by click from
    this same table (policy.commands.checkcli) for --help and for what this reader refuses."""

    name: str
    metavar: str
    help: str
    choices: tuple[str, ...] = ()  # the values allowed, where they are few
    default: Optional[str] = None


OPTIONS = (
    Option("--ref", "REF", "Ref being updated: refs/heads/main, refs/tags/v0.2.0, or a branch name."),
    Option("--old", "REV", "Where the ref was (40 zeros: a new ref)."),
    Option("--new", "REV", "Where the ref goes (40 zeros: a deletion)."),
    Option("--merge", "SOURCE", "Judge merging branch SOURCE (all its commits) ..."),
    Option("--into", "TARGET", "... into branch TARGET (a pull request)."),
    Option("--format", "FORMAT", "How the verdict is written.", choices=report.FORMATS, default="text"),
    Option("--rules", "ID,ID", "Judge only these rules (default: all enabled ones)."),
    Option("--policy", "FILE", "Policy file to use instead of main's."),
    Option("--remote", "NAME", "Remote whose branches are the server's (default: origin)."),
)
NAMES = frozenset(option.name for option in OPTIONS)


def parse_argv(args: Sequence[str]) -> Optional[dict[str, str]]:
    """{option: value} for a command line made only of known options, each given once with a
    value (`--opt VALUE` or `--opt=VALUE`) that click would read the same way; else None."""
    found: dict[str, str] = {}
    rest = list(args)
    while rest:
        name, eq, value = rest.pop(0).partition("=")
        if name not in NAMES or name in found:
            return None
        if not eq:
            if not rest or rest[0].startswith("-"):
                return None
            value = rest.pop(0)
        found[name] = value
    for option in OPTIONS:
        if option.choices and found.get(option.name, option.default) not in option.choices:
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

    def walk(
        self, include: Sequence[str], exclude: Sequence[str], paths: bool = True, topo: bool = False
    ) -> Iterator[Commit]:
        shown = 0.0
        for commit in super().walk(include, exclude, paths, topo):
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
        what, found, _, judged = run_check(
            git, ref=options.get("--ref"), old=options.get("--old"), new=options.get("--new"),
            merge=options.get("--merge"), into=options.get("--into"), policy_file=options.get("--policy"),
            remote=options.get("--remote"), rules=rule_ids(options.get("--rules")), env=dict(os.environ),
        )  # fmt: skip
    except (UsageError, PolicyError, GitError, Incomplete) as exc:
        print(f"branch-policy: {exc}", file=sys.stderr)
        return 2
    if fmt == "text" and found:
        print(f"branch-policy: {what}: refused", file=sys.stderr)
    print(report.render(found, fmt, judged=judged, stream=sys.stdout))
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
    in_ci = ci.platform(env)
    with git.session() as objects:  # the policy, then the revisions: one cat-file
        target: RefTarget | MergeTarget
        default = ci.default_branch(env)
        if merge or into:
            if not (merge and into):
                raise UsageError("--merge SOURCE needs --into TARGET (and the other way round)")
            source, source_rev = _tracking(merge, names, state.branches)
            into_name, _ = _tracking(into, names, state.branches)
            target, what = MergeTarget(source, into_name, source_rev), f"merge of {merge} into {into}"
        elif ref or old is not None or new is not None:
            if not ref or old is None or new is None:
                raise UsageError("--ref, --old and --new go together")
            old, new = (ZERO if rev in ("", "0") else rev for rev in (old, new))  # 0 or empty: create / delete
            target, what = RefTarget(full_ref(ref), old, new), f"{full_ref(ref)} {_short_rev(old)}..{_short_rev(new)}"
        else:
            what, target, detected = ci.detect(env, git)
            default = detected or default
        if in_ci:
            return _in_ci(git, objects, state, target, what, default, policy_file, rules, env, in_ci)
        explicit = read_explicit(policy_file)
        refs = server_refs(git) if bare else client_refs(remote)
        found = {} if explicit else objects.read(specs(refs))
        policy = (explicit or from_objects(found, refs, None if bare else os.getcwd())).only(rules)
        found_here, judged = _judge(git, objects, policy, state, target)
        return what, found_here, policy, judged


def _tracking(name: str, remotes: Sequence[str], branches: dict[str, str]) -> tuple[str, Optional[str]]:
    """`origin/x` (a remote-tracking name) is judged as branch `x`, at the commit origin/x has;
    a branch name stays itself."""
    for remote in remotes:
        if name.startswith(f"{remote}/") and name not in branches:
            return name[len(remote) + 1 :], name
    return name, None


def _judge(
    git: Git, objects: CatFile, policy: Policy, state: RepoState, target: RefTarget | MergeTarget
) -> tuple[list[Violation], report.Judged]:
    """The server's verdict: every branch the server has holds judged commits."""
    if isinstance(target, MergeTarget):
        source_rev = target.source_rev or state.branches.get(target.source, target.source)
        target_rev = state.branches.get(target.target, target.target)
        source_sha, target_sha = _resolve(objects, [("source", source_rev), ("target", target_rev)], True)
        return _judge_merge(git, policy, state, target.source, source_sha, target.target, target_sha)
    update_ref = full_ref(target.ref)
    commits = update_ref.startswith("refs/heads/")
    old_sha, new_sha = _resolve(objects, [("--old", target.old), ("--new", target.new)], commits)
    update = RefUpdate(update_ref, old_sha, new_sha)
    return _judge_update(git, policy, as_before(state, update.ref, old_sha), update)


def _judge_update(
    git: Git, policy: Policy, state: RepoState, update: RefUpdate
) -> tuple[list[Violation], report.Judged]:
    """One ref update's verdict, and what was judged (the ref, the range, how many commits)."""
    judge = Judge(git, policy, state, [update])
    found = judge.run()
    ref = update.ref
    label = ref.split("/", 2)[2] if ref.startswith(("refs/heads/", "refs/tags/")) else ref
    return found, report.Judged(label, update.old, update.new, judge.commits_judged)


def _judge_merge(
    git: Git, policy: Policy, state: RepoState, source: str, source_sha: str, target: str, target_sha: str,
    foreign: bool = False,
) -> tuple[list[Violation], report.Judged]:  # fmt: skip
    """A pull request's verdict, and what was judged."""
    merged = merge_judge(git, policy, state, source, source_sha, target, target_sha, foreign=foreign)
    judged = report.Judged(f"{source} into {target}", target_sha, source_sha, merged.commits_judged)
    return merged.out, judged


# --------------------------------------------------------------------------- in CI


def _in_ci(
    git: Git,
    objects: CatFile,
    state: RepoState,
    target: RefTarget | MergeTarget,
    what: str,
    default: Optional[str],
    policy_file: Optional[str],
    rules: Optional[list[str]],
    env: dict[str, str],
    platform: str,
) -> tuple[str, list[Violation], Policy, report.Judged]:
    """CI runs after the push, where no hook ran: only what protected branches held before the
    event counts as judged, the policy is main's before the event, a fork's branch is no branch
    of ours (see policy.ci)."""
    if env.get(ENV_FILE):
        raise UsageError(
            f"{ENV_FILE} is set, and {platform} does not honour it: in CI the policy is main's as it was "
            f"before the event (a file in the checkout is the judged commit's, and any earlier step can set "
            f"{ENV_FILE}); unset it, or name a file outside the checkout with --policy FILE"
        )
    explicit = read_file(policy_file) if policy_file else None
    if isinstance(target, MergeTarget):
        return _ci_merge(git, objects, state, target, what, default, explicit, rules)
    update_ref = full_ref(target.ref)
    branch = branch_name(update_ref)
    new_sha = ZERO if is_zero(target.new) else _resolve(objects, [("--new", target.new)], branch is not None)[0]
    gone = False  # `old` is not in this clone: no ref has it any more (a force-push rewrote it)
    old_sha = target.old
    if not is_zero(old_sha):
        if _full_sha(old_sha) and objects.info([f"{old_sha}^{{object}}"]).get(f"{old_sha}^{{object}}") is None:
            gone = True
        else:
            old_sha = _resolve(objects, [("--old", old_sha)], branch is not None)[0]
    before = as_before(state, update_ref, ZERO if is_zero(old_sha) else old_sha)
    policy = (explicit or policy_before(objects, before.branches, default)).only(rules)
    protected = tuple(policy.protected_kinds)
    found: list[Violation] = []
    if branch is not None and not is_zero(new_sha):
        if policy.kind_of(branch) in protected:
            if gone and policy.enabled("protected-ref"):
                found += protected_ref.check_branch(RefUpdate(update_ref, old_sha, new_sha), branch, False)
        else:
            what += " (every commit no protected branch has)"
        if gone or policy.kind_of(branch) not in protected:
            old_sha = ZERO  # judged against the protected branches alone
    update = RefUpdate(update_ref, old_sha, new_sha)
    state = as_before(state, update_ref, old_sha)._replace(trusted_kinds=protected)
    found_update, judged = _judge_update(git, policy, state, update)
    return what, found + found_update, policy, judged


def _ci_merge(
    git: Git,
    objects: CatFile,
    state: RepoState,
    target: MergeTarget,
    what: str,
    default: Optional[str],
    explicit: Optional[Policy],
    rules: Optional[list[str]],
) -> tuple[str, list[Violation], Policy, report.Judged]:
    if target.target not in state.branches:
        raise UsageError(
            f"the target branch {target.target} is not in this clone: fetch every branch "
            "(actions/checkout: fetch-depth: 0; GitLab: the README's git fetch)"
        )
    if target.fork and not target.source_rev:
        raise UsageError(f"the head commit of {target.fork}:{target.source} is not given by the event")
    source_rev = target.source_rev or state.branches.get(target.source)
    if source_rev is None:
        raise UsageError(f"the source branch {target.source} is not in this clone: fetch every branch")
    target_rev = state.branches[target.target]
    source_sha, target_sha = _resolve(objects, [("source", source_rev), ("target", target_rev)], True)
    policy = (explicit or policy_before(objects, state.branches, default)).only(rules)
    trusted = state._replace(trusted_kinds=tuple(policy.protected_kinds))
    source = f"{target.fork}:{target.source}" if target.fork else target.source
    found, judged = _judge_merge(
        git, policy, trusted, source, source_sha, target.target, target_sha, foreign=bool(target.fork)
    )
    if target.fork:
        found = [_fork_hint(v, target, source_sha, policy) for v in found]
    if target.title is not None:
        found += _title(policy, target, source_sha, target_sha)
    return what, found, policy, judged


def _fork_hint(v: Violation, target: MergeTarget, source_sha: str, policy: Policy) -> Violation:
    """The refusal of a fork's branch says how to bring it in as a branch of ours."""
    if v.rule != "merge-source" or v.commit != source_sha:
        return v
    protected = policy.protected_kinds
    kinds = [k for k in policy.accepts(policy.kind_of(target.target)) if k not in protected]
    name = example(policy.pattern(kinds[0])) if kinds else "<branch>"
    url = target.fork_url or f"<{target.fork} url>"
    hint = (
        f"a fork's branch is never one of this repository's branches: bring it here as one, then open "
        f"the request from it: git fetch {url} {target.source} && git push origin FETCH_HEAD:refs/heads/{name}"
    )
    return v._replace(hint=hint)


def _title(policy: Policy, target: MergeTarget, source_sha: str, target_sha: str) -> list[Violation]:
    """The request's title becomes the merge commit's message (the platform setting in the
    README): judged here as the push run of the target will judge that commit."""
    title = target.title or ""
    message = f"{title} (#{target.number})" if target.number else title
    merge = Commit(source_sha, "", (target_sha, source_sha), message, ())
    ref = f"refs/heads/{target.target}"
    target_kind = policy.kind_of(target.target)
    strict = target_kind in policy.settings("commit-message")["strict_branches"]
    found: list[Violation] = []
    if policy.enabled("commit-message"):
        found += commit_message.check(merge, ref, strict, policy)
    source_kind = None if target.fork else policy.kind_of(target.source)
    if policy.enabled("task-type") and target_kind in ("main", "dev") and source_kind == "task":
        found += task_type.check_task_merge(merge, ref, target.target, target.source, policy)
    hint = "edit the title of the pull/merge request (the platform makes it the merge commit's message: README, In CI)"
    return [v._replace(message=f"title {_show(message)}: {v.message}", hint=f"{hint}; {v.hint}") for v in found]


def _show(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _full_sha(rev: str) -> bool:
    return len(rev) == 40 and all(c in "0123456789abcdef" for c in rev)


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
    return rev[:7] if _full_sha(rev) else rev


def _a(kind: str) -> str:
    return f"an {kind}" if kind[:1] in "aeiou" else f"a {kind}"
