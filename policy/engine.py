"""The engine: judges ref updates (a push, a CI range, a pull request) against the policy.

It never runs git. It asks a `Facts` provider (policy.gitio.Git) for facts in batches: one walk
per pushed ref that streams every landing commit through the per-commit rules, then a fixed set
of batched look-ups (containment of merged commits per branch kind, blob contents, blob sizes,
one merge-tree per squash claim). The rules in policy.rules turn those facts into violations.

Which commits are judged for a ref update (old -> new):
- every commit that lands on the ref and that no other branch has: `new ^old ^<other branches>`
  (those were judged when they got there; commits that only debug branches have do not count
  as judged for a non-debug branch), and each commit once per push;
- a task branch judges its own commits: not on main nor on another task branch (task-scope);
- first-parent commits (`rev-list --first-parent new ^old`) are the commits made *on* the
  ref: main-direct-commit, strict messages on main, and merge provenance apply to them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import NamedTuple, Optional, Protocol, TypeVar

from policy.commitmsg import SquashRecord, commit_type, has_trailer_key, squash_record
from policy.config import POLICY_FILE, RULE_IDS, Policy, PolicyError, parse_policy_bytes
from policy.judged import Ledger
from policy.model import Commit, Incomplete, ObjectInfo, RefUpdate, Violation, branch_name, tag_name
from policy.rules import (
    branch_name as r_branch_name,
)
from policy.rules import (
    commit_message,
    debug_leak,
    hotfix_size,
    large_file,
    main_direct_commit,
    merge_source,
    protected_ref,
    ref_namespace,
    squash_merge,
    task_base,
    task_config,
    task_scope,
    task_type,
    unsafe_path,
    version_bump,
    version_tag,
)
from policy.rules._base import run_folder


class Facts(Protocol):
    """What the engine needs from a repository (implemented by policy.gitio.Git)."""

    def walk(
        self, include: Sequence[str], exclude: Sequence[str], paths: bool = True, topo: bool = False
    ) -> Iterator[Commit]: ...
    def commits(self, shas: Sequence[str], paths: bool = True) -> Iterator[Commit]: ...
    def first_parent(self, include: Sequence[str], exclude: Sequence[str]) -> list[tuple[str, ...]]: ...
    def reached_from(self, include: Sequence[str], exclude: Sequence[str]) -> dict[str, str]: ...
    def reachable_each(self, queries: Sequence[tuple[Iterable[str], Sequence[str]]]) -> list[set[str]]: ...
    def on_lines(self, queries: Sequence[tuple[Iterable[str], Sequence[str]]]) -> list[set[str]]: ...
    def is_ancestor(self, ancestor: str, descendant: str) -> bool: ...
    def ancestry(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Callable[[], bool]]: ...
    def contained(self, candidate: str, tips: Sequence[str]) -> bool: ...
    def merge_tree(self, ours: str, theirs: str) -> tuple[Optional[str], bool]: ...
    def changed_lines(self, base: str, tip: str) -> Optional[int]: ...
    def real_merges(
        self, pairs: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[Optional[str], list[str]]]: ...
    def tree_diff(self, a: str, b: str) -> list[str]: ...
    def object_info(self, specs: Iterable[str]) -> dict[str, Optional[ObjectInfo]]: ...
    def read(self, specs: Iterable[str]) -> dict[str, Optional[bytes]]: ...
    # Feeds: questions asked while the walk goes on, answered by git on the other core.
    # fed `<blob> <note>`: blob -> (size, note of its first line), if over limit
    def size_feed(self, limit: int) -> Feed[str, dict[str, tuple[int, str]]]: ...
    def contents_feed(  # spec -> contents; each(spec, contents) as they arrive (True: used up, not kept)
        self, each: Optional[Callable[[str, bytes], bool]] = None
    ) -> Feed[str, dict[str, Optional[bytes]]]: ...


K = TypeVar("K", contravariant=True)
R = TypeVar("R", covariant=True)


class Feed(Protocol[K, R]):
    """Items go in during the walk; result() waits for git's answer (see policy.gitio.Feed)."""

    def add(self, item: K) -> None: ...
    def result(self) -> R: ...


class RepoState(NamedTuple):
    """The refs as the server has them *before* the push."""

    branches: dict[str, str]  # branch name -> commit
    tags: dict[str, str]  # tag name -> object
    # Kinds whose branches (before the push) hold judged commits. None: every non-debug branch (a
    # server, where a branch holds only what its hook accepted). CI after the push: only the kinds
    # that checked pull requests alone update (main, dev), since refused commits stay on the server.
    trusted_kinds: Optional[tuple[str, ...]] = None


class _PathFacts(NamedTuple):
    debug: bool  # under a debug run's folder
    suffix: bool  # a data/model suffix that large-file refuses (not a DVC file)
    config: bool  # a task config
    dvc: Optional[str]  # what is wrong with a path under .dvc/ (its cache, its tmp)
    pointer: bool  # a .dvc file: must be a DVC pointer
    unsafe: Optional[str]  # why git would not check it out


class _Merge(NamedTuple):
    ref: str
    branch: str  # the branch the merge lands on
    kind: Optional[str]
    commit: Commit
    parent: str  # the merged (non-first) parent


class _Squash(NamedTuple):
    ref: str
    branch: str
    kind: Optional[str]
    commit: Commit
    record: SquashRecord


class _Tag(NamedTuple):
    ref: str
    tag: str
    version: str
    obj: str


SCOPE_SHOWN = 3  # task-scope refusals of commits several runs hold, listed per run (see Judge._scope)
MERGES_SHOWN = 50  # refused merges confirmed and listed in one push (see Judge._judge_merges)

PATH_RULES = (
    "large-file",
    "unsafe-path",
    "debug-leak",
    "task-config",
    "task-scope",
    "task-type",
    "main-direct-commit",
    "version-bump",
)


class Judge:
    def __init__(
        self,
        facts: Facts,
        policy: Policy,
        state: RepoState,
        updates: Sequence[RefUpdate],
        *,
        merge_base: Optional[str] = None,
        maybe_pushed: Optional[dict[str, str]] = None,
        judged: Sequence[str] = (),
        foreign: Sequence[str] = (),
    ) -> None:
        self.facts = facts
        self.policy = policy
        self.state = state
        self.updates = list(updates)
        self.merge_base = merge_base  # check --merge: judge everything not on the target
        # ... nor on these tips (CI: what protected branches held before the pull request)
        self.judged = sorted(set(judged) - {merge_base}) if merge_base else []
        # branch tips in the push, by name; `maybe_pushed`: tips that may be in it too (a client that
        # cannot see every ref of the push): they prove where merged commits come from, no more
        self.pushed = dict(maybe_pushed or {})
        self.pushed.update(
            {name: u.new for u in self.updates if (name := branch_name(u.ref)) is not None and not u.deleted}
        )
        # `foreign`: branches of another repository (a fork's pull request): no kind of ours, and
        # their names are not this repository's to judge
        self.foreign = frozenset(foreign)
        self._kind: dict[str, Optional[str]] = {name: None for name in self.foreign}
        self.debug_only: dict[str, str] = {}  # commit -> the debug tip that holds it (policy.judged, I3)
        # (ref, debug tip) -> the newest debug-only commit the ref lands, its target, all of them
        self.leaks: dict[tuple[str, str], tuple[str, str, list[str]]] = {}
        self.ledger = Ledger(policy, state, self.pushed, self.kind)
        self.tips = self.ledger.tips
        self.names_at = self.ledger.names_at
        self.walked = self.ledger.walked
        self.out: list[Violation] = []
        self._seen: set[tuple[str, str, str, str]] = set()
        self._scope_shown: dict[str, int] = defaultdict(int)  # run -> commits refused by task-scope (_scope)
        self.commits_judged = 0
        # deferred, batched work
        self.merges: list[_Merge] = []
        self.squashes: list[_Squash] = []
        self.bumps: list[tuple[str, Commit]] = []
        self.real_merges: list[tuple[str, str, Commit]] = []  # ref, branch, a merge on main's line
        self.bases: list[tuple[str, str, str]] = []  # ref, branch, base commit
        self.tags: list[_Tag] = []
        # Per blob, only what a refusal needs: a blob is remembered (a set of ids) so that it is
        # asked once, and where it was found only until its answer says it is fine.
        self.configs: dict[str, tuple[str, str, str]] = {}  # blob -> ref, commit, path (until fine)
        self.config_problems: dict[str, list[str]] = {}  # blob -> what is wrong, parsed as it arrives
        self._config_seen: set[str] = set()
        self._paths: dict[str, _PathFacts] = {}  # what each path is, worked out once per path
        self.pointers: dict[str, tuple[str, str, str]] = {}  # blob of a .dvc file -> ref, commit, path (until fine)
        self.pointer_problems: dict[str, str] = {}  # blob of a .dvc file -> what is wrong with it
        self._pointer_seen: set[str] = set()
        self._ref_ids: dict[str, int] = {}  # refs named in the size feed's notes, by number
        self._recent_blobs: set[str] = set()  # blobs whose sizes were asked lately (bounded)
        # asked while the walk goes on: sizes of blobs, contents of `configs` and `pointers`
        self.sizes: Optional[Feed[str, dict[str, tuple[int, str]]]] = None
        self.contents: Optional[Feed[str, dict[str, Optional[bytes]]]] = None
        self._asked: set[str] = set()  # the specs given to `contents`
        self._merge_keys: set[tuple[str, str, str]] = set()
        self.policy_files: list[tuple[str, str, str]] = []  # ref, branch, tip: its policy file must parse
        self.paths = any(policy.enabled(r) for r in PATH_RULES)
        self._enabled = {rule: policy.enabled(rule) for rule in RULE_IDS}
        self._task_type = task_type.task_type(policy)
        self._late_tips: set[str] = set()  # tips of new branches judged after the others (_run)
        self._passed: dict[str, set[str]] = {}  # walked tip -> the late tips its walk reached

    # ------------------------------------------------------------------ helpers
    def kind(self, branch: str) -> Optional[str]:
        if branch not in self._kind:
            self._kind[branch] = self.policy.kind_of(branch)
        return self._kind[branch]

    def add(self, found: Iterable[Optional[Violation]]) -> None:
        for v in found:
            if v is None:
                continue
            key = (v.rule, v.commit, v.path, v.message)
            if key not in self._seen:
                self._seen.add(key)
                self.out.append(v)

    def on(self, rule: str) -> bool:
        return self._enabled[rule]

    # ------------------------------------------------------------------ entry
    def run(self) -> list[Violation]:
        """Every violation; any failure on the way is raised as `Incomplete`, with what was found."""
        try:
            return self._run()
        except Exception as exc:
            raise Incomplete(exc, list(self.out)) from exc

    def _run(self) -> list[Violation]:
        ordered = sorted(self.updates, key=self._order)
        # commits only debug branches held before the push, with the debug tip that holds each (I3)
        query = self.ledger.debug_only_query() if self.on("debug-leak") else None
        landing_elsewhere = any(not u.deleted and self.kind(branch_name(u.ref) or "") != "debug" for u in self.updates)
        self.debug_only = self.facts.reached_from(*query) if query and landing_elsewhere else {}
        branches = [(u, name) for u in ordered if (name := branch_name(u.ref)) is not None]
        # New temporary branches come last, walked together (one walk per kind of judgement); one
        # that brings no commit of its own (already on a branch judged before or walked earlier in
        # this push: a mirror push of 1,600 merged branches) gets nothing from that walk.
        protected = self.policy.protected_kinds
        late = [(u, b) for u, b in branches if u.created and not self.merge_base and self.kind(b) not in protected]
        late_refs = {u.ref for u, _ in late}
        # tips of those that the walks of the others pass: reached from a branch walked in this
        # push, so settled without a question to git where that branch vouches for them (I2)
        self._late_tips = {u.new for u, _ in late}
        for u, b in branches:
            if u.ref not in late_refs:
                self._branch_update(u, b, self._walk)
        settled = self._passed_by_walks(late)
        lines = self._late_walks([(u, b) for u, b in late if u.ref not in settled])
        for u, b in late:
            self._branch_update(u, b, lambda u, branch, kind: lines.get(branch, []))
        self._other_refs([u for u in ordered if branch_name(u.ref) is None])
        self._finish()
        return self.out

    def _other_refs(self, updates: list[RefUpdate]) -> None:
        """Tags and every other namespace (policy.judged, I6): a namespace the policy does not
        allow is refused; what is allowed must lead to a commit, whose new commits are judged by
        the content rules; version tags by their own rules too."""
        allowed = []
        for u in updates:
            if not ref_namespace.allowed(u.ref, self.policy):
                if self.on("ref-namespace"):
                    self.add([ref_namespace.check(u, self.policy)])
            elif not u.deleted:
                allowed.append(u)
        info = self.facts.object_info([f"{u.new}^{{commit}}" for u in allowed])
        at_tip: dict[str, frozenset[str]] = defaultdict(frozenset)
        for u in updates:
            if (tag := tag_name(u.ref)) is not None:
                self._tag_update(u, tag)
        for u in allowed:
            peeled = info.get(f"{u.new}^{{commit}}")
            if peeled is None or peeled.type != "commit":
                if self.on("ref-namespace"):
                    self.add([ref_namespace.check_target(u, None)])
                continue
            at_tip[peeled.sha] |= {u.ref}  # an annotated tag's commit: the walk names commits
        if self.paths and at_tip:  # one walk for all of them (a push of 500 tags is one process)
            exclude = self.ledger.judged_before(None) + self.ledger.vouchers("", None)
            for commit, refs, _ in self._attributed(at_tip, exclude):
                self.commits_judged += 1
                first = min(refs)
                self._content(commit, first, first, None)

    def _passed_by_walks(self, late: list[tuple[RefUpdate, str]]) -> set[str]:
        """Refs of new branches whose tips the walks of this push reached, from a branch that
        vouches for their kind of judgement (I2): every commit they hold is judged already. (A mirror
        push of 4,759 feature branches merged into main and dev: none of them walked again.) The
        others are walked; a walk that finds nothing new for one settles it too."""
        passed: dict[Optional[str], set[str]] = {}  # kind of judgement -> the tips its vouchers reached
        settled = set()
        for u, b in late:
            kind = self.kind(b)
            k = kind if kind in ("task", "debug") else None
            if k not in passed:
                vouching = set(self.ledger.vouchers("", k))
                passed[k] = set().union(*(seen for tip, seen in self._passed.items() if tip in vouching))
            if u.new in passed[k]:
                settled.add(u.ref)
        return settled

    def _order(self, u: RefUpdate) -> tuple[int, str]:
        """Branches before tags; debug branches last among branches, so that a commit a debug
        branch shares with another is judged (and excluded from later walks) as the other's."""
        branch = branch_name(u.ref)
        if branch is None:
            return (3, u.ref)
        return (2 if self.kind(branch) == "debug" else 1, u.ref)

    # ------------------------------------------------------------------ branches
    def _branch_update(
        self, u: RefUpdate, branch: str, walk: Callable[[RefUpdate, str, Optional[str]], list[tuple[str, ...]]]
    ) -> None:
        """The rules of one branch update; `walk` judges the commits it lands and gives its
        first-parent line (the update's own walk, or what a batched walk of new branches found)."""
        kind = self.kind(branch)
        protected = kind in self.policy.protected_kinds
        if u.deleted:
            if protected and self.on("protected-ref"):
                self.add(protected_ref.check_branch(u, branch, None))
            return
        if self.on("branch-name") and branch not in self.foreign:
            self.add(r_branch_name.check(u.ref, branch, self.policy, u.new))
        if self.policy.judging_all:  # a malformed policy must never reach main: it would lock the server
            self.policy_files.append((u.ref, branch, u.new))
            self._read(f"{u.new}:{POLICY_FILE}")  # read beside the walks
        # an update of a protected branch must be a fast-forward: `_walk` says, from the branch's line
        first_parent = walk(u, branch, kind)
        self.walked[branch] = u.new
        if kind == "task" and (u.created or self.merge_base) and self.on("task-base"):
            self._task_base(u, branch, first_parent)
        if kind == "hotfix" and self.on("hotfix-size"):
            starts = self.ledger.starts(("main", "dev"), branch)
            if starts:
                counted = [n for start in starts if (n := self.facts.changed_lines(start, u.new)) is not None]
                self.add(hotfix_size.check(u.ref, branch, u.new, min(counted) if counted else None, self.policy))

    def _late_walks(self, late: list[tuple[RefUpdate, str]]) -> dict[str, list[tuple[str, ...]]]:
        """New branches that bring commits of their own, judged in one walk per kind of judgement
        (others, task, debug: policy.judged) whatever their number: a push of 10,000 new branches
        costs three walks, not 10,000. Each commit is judged once, for task-scope once per task
        branch that reaches it; the first-parent line of each branch is worked out from the walk
        (git's --topo-order gives every commit after all its children). Returns branch -> its
        first-parent line, newest first, as `_walk` would."""
        groups: dict[str, list[tuple[RefUpdate, str]]] = defaultdict(list)
        for u, b in late:
            kind = self.kind(b)
            groups[kind if kind in ("task", "debug") else ""].append((u, b))
        lines: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        for group in ("", "task", "debug"):  # debug last: it may skip what the others judged (I2)
            members = groups.get(group)
            if not members:
                continue
            kind_of_group = group or None
            exclude = self.ledger.exclude(kind_of_group, None, None) + self.ledger.vouchers("", kind_of_group)
            at_tip: dict[str, frozenset[str]] = defaultdict(frozenset)
            for u, b in members:
                at_tip[u.new] |= {b}
            for c, names, made_on in self._attributed(at_tip, exclude):
                self.commits_judged += 1
                first = min(names)
                if group == "task":  # task-scope below, for every run that holds the commit
                    self._commit(c, f"refs/heads/{first}", first, None, False)
                    self._scope(c, sorted(names))
                else:
                    self._commit(c, f"refs/heads/{first}", first, self.kind(first), False)
                for b in sorted(made_on):
                    lines[b].append((c.sha, *c.parents))
                    self._made_on(c, f"refs/heads/{b}", b, self.kind(b), False)
            for u, b in members:
                self.walked[b] = u.new
        return lines

    def _attributed(
        self, at_tip: dict[str, frozenset[str]], exclude: list[str]
    ) -> Iterator[tuple[Commit, frozenset[str], frozenset[str]]]:
        """One walk from many tips (`at_tip`: sha -> the refs there): each commit with the refs that
        hold it and those whose first-parent line has it. git's --topo-order gives every commit after
        all its children, so what the children found is joined when the commit comes (a parent
        outside the walk, such as the one commit 10,000 new branches start from, costs nothing)."""
        reach: dict[str, list[frozenset[str]]] = defaultdict(list)
        line: dict[str, list[frozenset[str]]] = defaultdict(list)
        for c in self.facts.walk(sorted(at_tip), sorted(set(exclude)), paths=self.paths, topo=True):
            here = at_tip.get(c.sha, frozenset())
            names = here.union(*reach.pop(c.sha, ()))
            made_on = here.union(*line.pop(c.sha, ()))
            for parent in c.parents:
                reach[parent].append(names)
            if c.parents:
                line[c.parents[0]].append(made_on)
            if names:
                yield c, names, made_on

    def _scope(self, c: Commit, runs: list[str]) -> None:
        """task-scope for a commit that these new task branches of the push hold: it is the run's
        whose folder holds it (a run started from another run, both pushed at once); within none
        of their folders, it is refused for each."""
        if not self.on("task-scope"):
            return
        # A commit several runs hold (a push of main with runs started from main's new tip: every
        # commit of main, for every run) is listed for a run only until SCOPE_SHOWN such commits
        # refused it; by then the run, and the push, are refused. A run's own commits (one holder)
        # are each listed: their number is the push's, not commits x runs.
        shared = len(runs) > 1
        shown = [run for run in runs if not shared or self._scope_shown[run] < SCOPE_SHOWN]
        if not shown:
            return
        if all("/" not in run for run in runs):  # within one holder's folder: the first path's run's
            home = run_folder(c.changes[0].path, self.policy.tasks_dir) if c.changes else ""
            if not c.changes or (
                home in {self.policy.task_folder(run) for run in runs}
                and all(change.path.startswith(home) for change in c.changes)
            ):
                return
        elif any(all(change.path.startswith(self.policy.task_folder(run)) for change in c.changes) for run in runs):
            return
        for run in shown:
            self._scope_shown[run] += shared
            self.add(self._origins_first(task_scope.check(c, f"refs/heads/{run}", run, self.policy)))

    def _origins_first(self, found: list[Violation]) -> list[Violation]:
        """A run started from main's new tip, pushed with main: main's new commits are not yet the
        run's origin (policy.judged, I1), so say the order that works."""
        moved = self.ledger.origins_in_push()
        if not found or not moved:
            return found
        first = " ".join(moved)
        return [
            v._replace(hint=f"if the commit came with {', '.join(moved)} in this same push, push those first, "
                       f"`git push origin {first}`, then this branch; otherwise: {v.hint}")
            for v in found
        ]  # fmt: skip

    def _walk(self, u: RefUpdate, branch: str, kind: Optional[str]) -> list[tuple[str, ...]]:
        """Stream the commits landing on the branch through the per-commit rules; then judge its
        first-parent line. Returns that line, newest first."""
        exclude = self.ledger.exclude(kind, None if u.created else u.old, self.merge_base) + self.judged
        # Tips walked earlier in this push: what they reach is judged already (the per-commit
        # rules are the same on every non-task branch), so a push of main, dev and fifty new
        # branches walks each new commit once. A task branch judges its own commits itself.
        walked = self.ledger.vouchers(branch, kind)
        # The first-parent line of an update stops only at `old`: a fast-forward of main onto
        # commits that dev brings in the same push is still a direct commit on main.
        if u.created or kind == "task":
            line_exclude = sorted(set(exclude + walked))
        else:
            line_exclude = [self.merge_base, *self.judged] if self.merge_base else [u.old]
        landing = self.facts.walk([u.new], sorted(set(exclude + walked)), paths=self.paths)  # git starts now
        check_fast_forward = not u.created and kind in self.policy.protected_kinds and self.on("protected-ref")
        try:
            first_parent = self.facts.first_parent([u.new], line_exclude)  # and this runs beside it
        except Exception:  # what is found before a failure still refuses (on_error: allow)
            if check_fast_forward:
                self.add(protected_ref.check_branch(u, branch, self.facts.is_ancestor(u.old, u.new)))
            raise
        if check_fast_forward:  # judged before the commits the walk brings, as it is listed
            self.add(protected_ref.check_branch(u, branch, self._fast_forward(u, first_parent)))
        on_line = {entry[0] for entry in first_parent}
        unlanded = set(on_line)  # the line's commits that the walk does not bring
        strict = kind in self.policy.settings("commit-message")["strict_branches"]
        bootstrap = kind == "main" and u.created and self.ledger.bootstrap
        # The commits of the line that `_made_on` judges, kept until the walk ends (it judges them
        # oldest first): on main all of them, elsewhere its merges; none in a bootstrap. (Kept
        # whole, a bootstrap of a million commits would hold main's line, messages and paths.)
        keep_all, keep_merges = kind == "main" and not bootstrap, not bootstrap
        kept: dict[str, Commit] = {}
        late_tips = self._late_tips
        passed = self._passed.setdefault(u.new, set())  # late tips this walk reaches
        for commit in landing:
            if commit.sha in late_tips:
                passed.add(commit.sha)
            self.commits_judged += 1
            made_here = commit.sha in on_line
            self._commit(commit, u.ref, branch, kind, strict and made_here)
            if made_here:
                unlanded.discard(commit.sha)
                if keep_all or (keep_merges and len(commit.parents) > 1):
                    kept[commit.sha] = commit
        missing = [entry[0] for entry in first_parent if entry[0] in unlanded]
        for commit in self.facts.commits(missing, paths=self.paths):
            unlanded.discard(commit.sha)
            # on the first-parent line but already on another branch (e.g. a fast-forward of
            # main onto dev): judged there, but what is special about this line applies here
            if keep_all or (keep_merges and len(commit.parents) > 1):
                kept[commit.sha] = commit
            if strict and self.on("commit-message"):
                self.add(commit_message.check(commit, u.ref, True, self.policy))

        if unlanded:  # git named them on the line, then did not show them: judge nothing half
            raise RuntimeError(f"the commits of {branch}'s line could not be read: {', '.join(sorted(unlanded)[:3])}")
        for entry in reversed(first_parent):  # oldest first
            made = kept.get(entry[0])
            if made is not None:  # for the others `_made_on` has nothing to judge
                self._made_on(made, u.ref, branch, kind, bootstrap)
        return first_parent

    def _fast_forward(self, u: RefUpdate, first_parent: list[tuple[str, ...]]) -> bool:
        """Whether `old` is an ancestor of `new`: proven by the line of `new ^old` when its last
        commit's first parent is `old` (an ordinary fast-forward: no process); else git says
        (`merge-base --is-ancestor`: `old` reached through a merge's other parent, or not at all)."""
        if first_parent and len(first_parent[-1]) > 1 and first_parent[-1][1] == u.old:
            return True
        return self.facts.is_ancestor(u.old, u.new)

    def _commit(self, c: Commit, ref: str, branch: str, kind: Optional[str], strict: bool) -> None:
        """Rules that judge one landing commit by itself. (This runs for every commit of a range:
        it reads the enabled rules from a dict and each path's facts from `_paths`.)"""
        p = self.policy
        on = self._enabled
        if on["commit-message"]:
            self.add(commit_message.check(c, ref, strict, p))
        if on["task-type"] and len(c.parents) < 2 and commit_type(c.message) == self._task_type:
            self.add(task_type.check_paths(c, ref, c.changes, p))  # a merge: see _judge_merges
        if kind == "task" and on["task-scope"]:
            self.add(self._origins_first(task_scope.check(c, ref, branch, p)))
        self._content(c, ref, branch, kind)

    def _content(self, c: Commit, ref: str, target: str, kind: Optional[str]) -> None:
        """The content rules, for a commit landing on any ref (branch, tag, other namespace):
        debug-leak, large-file, task-config, unsafe-path. Every path of every blob is judged."""
        p = self.policy
        on = self._enabled
        debug = kind != "debug" and on["debug-leak"]
        if debug and c.sha in self.debug_only:  # one violation per ref and debug tip, for its newest commit
            self.leaks.setdefault((ref, self.debug_only[c.sha]), (c.sha, target, []))[2].append(c.sha)
            return  # what else it holds is the debug branch's, refused as a whole
        sizes = on["large-file"]
        configs = on["task-config"]
        unsafe = on["unsafe-path"]
        remembered = self._paths
        recent = self._recent_blobs
        note: Optional[str] = None
        for change in c.changes:
            if change.status == "D":  # a deletion brings no file, no debug output, no config
                continue
            path = change.path
            facts = remembered.get(path)
            if facts is None:  # paths repeat across commits (3,210 paths in 16,300 changes)
                if len(remembered) >= 1 << 16:  # but not without bound (a million commits)
                    remembered.clear()
                facts = remembered[path] = _PathFacts(
                    p.is_debug_path(path),
                    large_file.suffix_judged(path, p),
                    p.is_task_config(path),
                    large_file.dvc_problem(path, p),
                    large_file.is_pointer_path(path),
                    unsafe_path.problem(path),
                )
            if debug and facts.debug:
                self.add(debug_leak.check_path(change, ref, c.sha, target, p))
            if unsafe and facts.unsafe:
                self.add([unsafe_path.check(path, facts.unsafe, ref, c.sha)])
            if sizes and change.mode != "160000":  # every blob but a submodule's commit
                if facts.suffix:
                    self.add([large_file.check_suffix(change, ref, c.sha, p)])
                if facts.dvc:
                    self.add([large_file.check_dvc_path(path, facts.dvc, ref, c.sha)])
                # every blob, once while it is remembered (a set of every blob would grow with the
                # history; git answers a repeated one in microseconds): the first one over the
                # limit is the one refused, where its note says
                if change.blob not in recent:
                    if len(recent) >= 1 << 15:
                        recent.clear()
                    recent.add(change.blob)
                    if note is None:  # once per commit: where its blobs were found
                        if self.sizes is None:
                            self.sizes = self.facts.size_feed(p.max_bytes)
                        note = f" {self._ref_ids.setdefault(ref, len(self._ref_ids))} {c.sha} "
                    self.sizes.add(change.blob + note + _escape(path))  # type: ignore[union-attr]
                if facts.pointer and change.blob not in self._pointer_seen:
                    self._pointer_seen.add(change.blob)
                    self.pointers[change.blob] = (ref, c.sha, path)
                    self._ask(change.blob)
            if configs and facts.config and change.blob not in self._config_seen:
                self._config_seen.add(change.blob)
                self.configs[change.blob] = (ref, c.sha, path)
                self._ask(change.blob)

    def _made_on(self, c: Commit, ref: str, branch: str, kind: Optional[str], bootstrap: bool) -> None:
        """Rules about commits made on this branch (its first-parent line)."""
        if kind == "main" and not bootstrap:
            if self.on("main-direct-commit"):
                self.add(main_direct_commit.check(c, ref, branch, self.policy))
                self.add(main_direct_commit.check_merge_shape(c, ref, branch))
                if len(c.parents) == 2:
                    self.real_merges.append((ref, branch, c))
            category = main_direct_commit.classify(c, self.policy)
            record = squash_record(c.message, self.policy.settings("squash-merge")["trailer"])
            if category == main_direct_commit.SQUASH and record:
                self.squashes.append(_Squash(ref, branch, kind, c, record))
            elif category == main_direct_commit.BUMP and self.on("version-bump"):
                self.bumps.append((ref, c))
            elif (
                category == main_direct_commit.DIRECT
                and self.on("squash-merge")
                and has_trailer_key(c.message, self.policy.settings("squash-merge")["trailer"])
            ):
                self.add(squash_merge.check_unrecorded(c, ref, branch))
        if c.is_merge and not bootstrap:
            for parent in c.parents[1:]:
                if (c.sha, parent, branch) not in self._merge_keys:
                    self._merge_keys.add((c.sha, parent, branch))
                    self.merges.append(_Merge(ref, branch, kind, c, parent))

    def _task_base(self, u: RefUpdate, branch: str, first_parent: list[tuple[str, ...]]) -> None:
        if not first_parent:
            base: Optional[str] = u.new  # no commits of its own: it starts where it points
        else:
            oldest = first_parent[-1]
            base = oldest[1] if len(oldest) > 1 else None
        if base is None:
            self.add(task_base.check(u.ref, branch, None, None, self.policy))
        else:
            self.bases.append((u.ref, branch, base))

    # ------------------------------------------------------------------ tags
    def _tag_update(self, u: RefUpdate, tag: str) -> None:
        version = self.policy.version_of_tag(tag)
        if version is None:
            return
        if not u.created:
            if self.on("protected-ref"):
                self.add(protected_ref.check_tag(u, tag))
            return
        if self.on("version-tag"):
            self.tags.append(_Tag(u.ref, tag, version, u.new))

    # ------------------------------------------------------------------ batched look-ups
    def _finish(self) -> None:
        for (ref, tip), (newest, target, shas) in self.leaks.items():
            holders = [n for n in self.names_at(tip, "") if self.kind(n) == "debug"]
            self.add(debug_leak.check_route(ref, newest, holders, target, len(shas)))
        info = self.facts.object_info(
            [s.record.commit for s in self.squashes]
            + [t.obj for t in self.tags]
            + [f"{t.obj}^{{commit}}" for t in self.tags]
        )
        self._judge_merges()
        self._judge_real_merges()
        self._judge_squashes(info)
        self._judge_contents(info)
        self._judge_sizes()

    def _contained(self, queries: dict[tuple[str, str], set[str]]) -> dict[tuple[str, str], set[str]]:
        """{(kind, excluded branch): candidates} -> the candidates some such branch contains.
        One rev-list per (kind, excluded branch) pair, whatever the number of candidates; they run
        side by side."""
        keys = list(queries)
        tips = {key: self.tips([key[0]], key[1]) for key in keys}
        # Many candidates and a few tips (main's merges into dev, in a mirror push): those on the
        # tips' first-parent lines are contained, found by a walk of those lines alone; only the
        # rest cost a rev-list of the tips' whole history.
        lined = [key for key in keys if 0 < len(tips[key]) <= 8 and len(queries[key]) >= 32]
        on_line = dict(zip(lined, self.facts.on_lines([(queries[key], tips[key]) for key in lined])))
        answers = self.facts.reachable_each([(queries[key] - on_line.get(key, set()), tips[key]) for key in keys])
        return {key: answer | on_line.get(key, set()) for key, answer in zip(keys, answers)}

    def _source_kinds(self, merges: list[_Merge], kinds_for: dict[int, list[str]]) -> dict[int, set[str]]:
        queries: dict[tuple[str, str], set[str]] = defaultdict(set)
        for i, m in enumerate(merges):
            for kind in kinds_for[i]:
                queries[(kind, m.branch)].add(m.parent)
        found = self._contained(queries)
        return {i: {kind for kind in kinds_for[i] if m.parent in found[(kind, m.branch)]} for i, m in enumerate(merges)}

    def _judge_merges(self) -> None:
        if not self.merges or not (self.on("merge-source") or self.on("debug-leak") or self.on("task-type")):
            return
        p = self.policy
        tip_kinds = {
            i: {self.kind(n) for n in self.names_at(m.parent, m.branch)} - {None} for i, m in enumerate(self.merges)
        }
        first: dict[int, list[str]] = {}
        for i, m in enumerate(self.merges):
            wanted = set(p.accepts(m.kind))
            task_question = m.kind in ("main", "dev") and p.has_kind("task")
            if wanted & tip_kinds[i]:  # type: ignore[operator]
                # a branch of an accepted kind points at it (a mirror push: 4,800 merged feature
                # tips): accepted whatever else holds it; only whether a task branch does may still
                # matter, for a merge that carries the task type (task-type, below)
                wanted = set()
                task_question = task_question and self.on("task-type") and "task" not in tip_kinds[i]
                task_question = task_question and commit_type(m.commit.message) == self._task_type
            if task_question:
                wanted.add("task")
            first[i] = sorted(wanted - tip_kinds[i])  # type: ignore[operator]
        # Kinds of few branches (main, dev) first: their rev-lists are cheap, and a merge they
        # settle (accepted, and held by a branch that is not a task's: not a task merge) needs no
        # walk against thousands of feature tips. A merge whose message carries the task type is
        # asked every kind at once (task-type names them all).
        full = {
            i
            for i, m in enumerate(self.merges)
            if self.on("task-type") and commit_type(m.commit.message) == self._task_type
        }
        counts: dict[tuple[str, str], int] = {}
        for i, m in enumerate(self.merges):
            for k in first[i]:
                if (k, m.branch) not in counts:
                    counts[(k, m.branch)] = len(self.tips([k], m.branch))
        few = {i: [k for k in first[i] if i in full or counts[(k, m.branch)] <= 8] for i, m in enumerate(self.merges)}
        kinds = self._source_kinds(self.merges, few)
        for i in kinds:
            kinds[i] |= tip_kinds[i]  # type: ignore[arg-type]
        later = {
            i: []
            if kinds[i] & set(p.accepts(m.kind)) and kinds[i] - {"task", "debug"}
            else [k for k in first[i] if k not in few[i]]
            for i, m in enumerate(self.merges)
        }
        if any(later.values()):
            more = self._source_kinds(self.merges, later)
            for i in more:
                kinds[i] |= more[i]
        refused = [i for i, m in enumerate(self.merges) if not kinds[i] & set(p.accepts(m.kind))]
        # Each refusal is confirmed exactly (a process each), but one confirmed refusal per merge
        # commit is enough to refuse it: its other refused parents are counted, not confirmed (an
        # octopus of 1,000 parents costs one process, not 1,000).
        # Past MERGES_SHOWN confirmed refusals the push is refused whatever the rest are: they are
        # neither confirmed nor listed (a process each, and a line each, for hundreds of merges).
        confirmed: list[int] = []
        more_parents: dict[str, int] = defaultdict(int)
        for i in refused:
            if len(confirmed) >= MERGES_SHOWN:
                break
            sha = self.merges[i].commit.sha
            if sha in more_parents:
                more_parents[sha] += 1
            elif not self._confirm_source(self.merges[i], kinds[i]):
                confirmed.append(i)
                more_parents[sha] = 0
        refused = confirmed
        if refused:
            rest = {i: sorted(set(p.kinds) - kinds[i] - set(first[i])) for i in refused}
            more = self._source_kinds([self.merges[i] for i in refused], {j: rest[i] for j, i in enumerate(refused)})
            for j, i in enumerate(refused):
                kinds[i] |= more[j]
        refusals = set(refused)
        for i, m in enumerate(self.merges):
            accepted = p.accepts(m.kind)
            names = self.names_at(m.parent, m.branch)
            desc = ", ".join(names[:3]) if names else _kinds_desc(kinds[i])
            if i in refusals:
                found = []
                if kinds[i] and kinds[i] <= {"debug"} and m.kind != "debug":
                    if self.on("debug-leak"):
                        found = debug_leak.check_merge(m.ref, m.commit.sha, m.parent, desc, m.branch)
                elif self.on("merge-source"):
                    found = merge_source.check(m.ref, m.commit.sha, m.parent, desc, m.branch, accepted, self.policy)
                extra = more_parents.get(m.commit.sha, 0)
                self.add(
                    v._replace(message=f"{v.message} (and {extra} more of its parents)") if extra else v for v in found
                )
                continue
            if m.commit.sha in more_parents:  # refused already, for another of its parents
                continue
            if m.kind in ("main", "dev") and self.on("task-type") and _task_merge(tip_kinds[i], kinds[i]):
                source = next((n for n in names if self.kind(n) == "task"), "a task branch")
                found = task_type.check_task_merge(m.commit, m.ref, m.branch, source, p)
                others = [k for k in ("dev", "feature", "hotfix") if p.has_kind(k)]
                # a task tip is exact; found by containment, make sure dev & co. do not have it too
                if found and (tip_kinds[i] or not self._confirm_source(m, kinds[i], others)):
                    self.add(found)
            elif (
                m.kind in ("main", "dev")
                and self.on("task-type")
                and "task" not in kinds[i]
                and commit_type(m.commit.message) == self._task_type
            ):  # the task type marks the results of a run: a merge of no task branch does not carry it
                self.add(task_type.check_not_task_merge(m.commit, m.ref, m.branch, desc, p))

    def _judge_real_merges(self) -> None:
        """A merge on main's line is what git's merge of its parents makes (main-direct-commit)."""
        if not self.real_merges:
            return
        ancestry = self.facts.ancestry((c.parents[1], c.parents[0]) for _, _, c in self.real_merges)
        brings = [
            (ref, branch, c) for ref, branch, c in self.real_merges if not ancestry[(c.parents[1], c.parents[0])]()
        ]
        for ref, branch, c in self.real_merges:
            if ancestry[(c.parents[1], c.parents[0])]():
                self.add(main_direct_commit.check_real_merge(c, ref, branch, brings_nothing=True, extra_paths=[]))
        merged = self.facts.real_merges((c.parents[0], c.parents[1]) for _, _, c in brings)
        for ref, branch, c in brings:
            tree, conflicted = merged[(c.parents[0], c.parents[1])]
            if tree is None:  # unrelated histories: no merge git would make
                self.add(
                    main_direct_commit.check_real_merge(
                        c, ref, branch, brings_nothing=False, extra_paths=[], unrelated=True
                    )
                )
                continue
            differ = self.facts.tree_diff(tree, c.tree) if tree != c.tree else []
            extra = [path for path in differ if path not in set(conflicted)]
            self.add(main_direct_commit.check_real_merge(c, ref, branch, brings_nothing=False, extra_paths=extra))

    def _confirm_source(self, m: _Merge, kinds: set[str], among: Optional[list[str]] = None) -> bool:
        """Before a refusal rests on "no branch of these kinds has the merged commit" (the batched
        rev-list can miss containment on clock skew), ask exactly, one kind at a time. Adds the
        kinds found to `kinds`; True when one was found."""
        wanted = self.policy.accepts(m.kind) if among is None else among
        for kind in wanted:
            if kind not in kinds and self.facts.contained(m.parent, self.tips([kind], m.branch)):
                kinds.add(kind)
        return bool(kinds & set(wanted))

    def _judge_squashes(self, info: dict[str, Optional[ObjectInfo]]) -> None:
        if not self.squashes:
            return
        p = self.policy
        for s in self.squashes:
            record = s.record
            source_kind = self.kind(record.branch)
            tip = (
                None
                if record.branch == s.branch
                else self.pushed.get(record.branch, self.state.branches.get(record.branch))
            )
            exists = _type(info, record.commit) == "commit"
            if source_kind == "debug" and s.kind != "debug":
                if self.on("debug-leak"):
                    self.add(
                        debug_leak.check_merge(
                            s.ref, s.commit.sha, record.commit, f"debug branch {record.branch}", s.branch
                        )
                    )
                continue
            accepted = p.accepts(s.kind)
            on_branch = bool(tip and exists and self.facts.is_ancestor(record.commit, tip))
            tree, clean = (None, False)
            if source_kind in accepted and exists and on_branch and s.commit.parents:  # a root squashes nothing
                tree, clean = self.facts.merge_tree(s.commit.parents[0], record.commit)
            if self.on("squash-merge"):
                self.add(squash_merge.check(
                    s.commit, s.ref, record, target=s.branch, source_kind=source_kind, accepted=accepted,
                    source_exists=exists, on_branch=on_branch, merged_tree=tree, clean=clean,
                ))  # fmt: skip
            if source_kind == "task" and self.on("task-type"):
                self.add(task_type.check_task_merge(s.commit, s.ref, s.branch, record.branch, p))

    def _judge_contents(self, info: dict[str, Optional[ObjectInfo]]) -> None:
        """Everything that needs file contents, read in one `cat-file --batch`."""
        p = self.policy
        cfg = p.main_config
        tag_commits: dict[str, Optional[str]] = {}
        for t in self.tags:
            peeled = info.get(f"{t.obj}^{{commit}}")
            tag_commits[t.obj] = peeled.sha if peeled else None
        specs = [f"{c.parents[0]}:{cfg}" for _, c in self.bumps] + [f"{c.sha}:{cfg}" for _, c in self.bumps]
        specs += [f"{base}:{cfg}" for _, _, base in self.bases]
        specs += [f"{commit}:{cfg}" for commit in tag_commits.values() if commit]
        for spec in specs:
            self._read(spec)
        # the task configs and policy files, asked during the walks, and these
        blobs = self.contents.result() if self.contents is not None else {}
        self._judge_policy_files(blobs)
        for ref, c in self.bumps:
            self.add(version_bump.check(c, ref, blobs.get(f"{c.parents[0]}:{cfg}"), blobs.get(f"{c.sha}:{cfg}"), p))
        for ref, branch, base in self.bases:
            version = version_bump.read_version(blobs.get(f"{base}:{cfg}"), p.version_key)
            self.add(task_base.check(ref, branch, base, version, p))
        for blob, (ref, commit, path) in self.pointers.items():
            problem = self.pointer_problems.get(blob)
            if problem:
                self.add([large_file.check_pointer(path, problem, ref, commit)])
        for blob, (ref, commit, path) in self.configs.items():
            if blob in self.config_problems:
                self.add(task_config.report(self.config_problems[blob], path, ref, commit, p))
        if self.tags:
            mains = self.tips(["main"], "")
            on_main = {c for c in set(tag_commits.values()) if c and self.facts.contained(c, mains)}
            for t in self.tags:
                tagged = tag_commits[t.obj]
                self.add(version_tag.check(
                    t.ref, t.tag, t.version,
                    annotated=_type(info, t.obj) == "tag",
                    commit=tagged, on_main=tagged in on_main,
                    config_version=version_bump.read_version(blobs.get(f"{tagged}:{cfg}"), p.version_key),
                    policy=p,
                ))  # fmt: skip

    def _read(self, spec: str) -> None:
        """Ask for the contents of `spec` (`sha` or `rev:path`), once: answered in `self.contents`.
        (Branches of a push often share a tip, and so the spec of their policy file.)"""
        if spec in self._asked:
            return
        self._asked.add(spec)
        self._ask(spec)

    def _ask(self, spec: str) -> None:
        if self.contents is None:
            self.contents = self.facts.contents_feed(self._arrived)
        self.contents.add(spec)

    def _arrived(self, spec: str, content: bytes) -> bool:
        """A task config's or a DVC pointer's contents, read during the walk, are judged then too
        (on the feed's thread: the walk mostly waits for git), and not kept; where they were found
        is kept only when they are refused. (The other specs' contents are kept: True is "used up".)"""
        used = False
        if spec in self.configs:
            used = True
            found = task_config.problems(content, self.policy)
            if found:
                self.config_problems[spec] = found
            else:
                del self.configs[spec]
        if spec in self.pointers:
            used = True
            problem = large_file.pointer_problem(content)
            if problem:
                self.pointer_problems[spec] = problem
            else:
                del self.pointers[spec]
        return used

    def _judge_policy_files(self, blobs: dict[str, Optional[bytes]]) -> None:
        """The policy file a branch carries parses (the check `policy-file`, always on)."""
        checked: dict[bytes, Optional[str]] = {}
        for ref, branch, tip in self.policy_files:
            content = blobs.get(f"{tip}:{POLICY_FILE}")
            if content is None:
                continue
            if content not in checked:
                try:
                    parse_policy_bytes(content, f"{branch}:{POLICY_FILE}")
                    checked[content] = None
                except PolicyError as exc:
                    checked[content] = str(exc)
            problem = checked[content]
            if problem:
                self.add([Violation(
                    "policy-file", ref, tip, POLICY_FILE, problem,
                    "fix the file (policy rules --policy .branch-policy.yaml shows what the server will "
                    "read); a malformed policy on main would refuse every later push",
                )])  # fmt: skip

    def _judge_sizes(self) -> None:
        if self.sizes is None:
            return
        refs = list(self._ref_ids)
        for size, note in self.sizes.result().values():
            ref_id, commit, path = note.split(" ", 2)
            self.add([large_file.check_size(_unescape(path), size, refs[int(ref_id)], commit, self.policy)])


def _escape(path: str) -> str:
    """A path on one line of a feed (git reads its lines with the newline and a CR before it cut)."""
    if "\\" in path or "\n" in path or "\r" in path:
        return path.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return path


def _unescape(path: str) -> str:
    if "\\" not in path:
        return path
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m[1], m[1]), path)


def _type(info: dict[str, Optional[ObjectInfo]], spec: str) -> Optional[str]:
    found = info.get(spec)
    return found.type if found else None


def _task_merge(tip_kinds: set[Optional[str]], kinds: set[str]) -> bool:
    """Whether a merged commit comes from a task branch: only task branches point at it, or (when
    no branch points at it) task branches are the only ones that contain it. A commit on main that
    a task branch started from is main's, not the task's."""
    if tip_kinds:
        return tip_kinds == {"task"}
    return "task" in kinds and not kinds - {"task", "debug"}


def _kinds_desc(kinds: set[str]) -> str:
    if not kinds:
        return "no branch the repository has"
    return " or ".join(f"a {k} branch" for k in sorted(kinds))


def judge(
    facts: Facts,
    policy: Policy,
    state: RepoState,
    updates: Sequence[RefUpdate],
    *,
    merge_base: Optional[str] = None,
    maybe_pushed: Optional[dict[str, str]] = None,
) -> list[Violation]:
    """All violations of `updates` (every ref of a push), given the refs before the push."""
    return Judge(facts, policy, state, updates, merge_base=merge_base, maybe_pushed=maybe_pushed).run()


def merge_judge(
    facts: Facts,
    policy: Policy,
    state: RepoState,
    source: str,
    source_sha: str,
    target: str,
    target_sha: str,
    *,
    foreign: bool = False,
) -> Judge:
    """Merging branch `source` into `target` (a pull request): every commit of the source that the
    target lacks is judged as if pushed, then the merge edge itself. Returns the Judge: its `out`
    and its `commits_judged` (policy check). With
    `state.trusted_kinds` (CI), commits that branches of those kinds held are judged already (a
    release pull request of dev does not re-judge dev's own merges). `foreign`: the source is a
    fork's branch, never one of this repository's, whatever its name."""
    from policy.model import ZERO

    branches = {name: sha for name, sha in state.branches.items() if foreign or name != source}
    branches[target] = target_sha
    trusted = state.trusted_kinds
    judged = [] if trusted is None else [sha for name, sha in state.branches.items() if policy.kind_of(name) in trusted]
    update = RefUpdate(f"refs/heads/{source}", ZERO, source_sha)
    judge = Judge(
        facts, policy, state._replace(branches=branches), [update], merge_base=target_sha, judged=judged,
        foreign=[source] if foreign else [],
    )  # fmt: skip
    judge.run()
    source_kind = None if foreign else policy.kind_of(source)
    target_kind = policy.kind_of(target)
    accepted = policy.accepts(target_kind)
    ref = f"refs/heads/{target}"
    if source_kind == "debug" and target_kind != "debug":
        if policy.enabled("debug-leak"):
            judge.add(debug_leak.check_merge(ref, source_sha, source_sha, f"debug branch {source}", target))
    elif source_kind not in accepted and policy.enabled("merge-source"):
        kind = f"a {source_kind} branch" if source_kind else "no branch kind"
        desc = f"{source} ({'a branch of another repository' if foreign else kind})"
        judge.add(merge_source.check(ref, source_sha, source_sha, desc, target, accepted))
    return judge
