"""Which commits a push judges, under which rules, and which refs prove what: the one place that
decides it. The engine (policy.engine) asks this module and nothing else.

Invariants (each is what a refusal rests on; a change here must keep every one):

I1  Judged before. A commit counts as judged for an update of kind K only if, BEFORE the push, a
    branch held it whose judgement covers K's rules: for K = debug, any branch; for a task branch,
    main (or another origin kind of `task-base.from`) or another task branch (its own commits are
    the rest, judged for task-scope; in the push that creates main where none was, main's new tip
    too: a first mirror push of an existing project); for any other K, a branch of a non-debug kind or of no kind
    (on a server every branch holds only what its hook accepted). With `RepoState.trusted_kinds`
    (CI, after the push) only branches of those kinds count.
I2  Judged in this push. An update may also skip commits that an update walked earlier in the same
    push, but only when that update's rules include K's: any update for K = debug; any non-debug
    update for other non-task K (a task branch's walk applies every rule plus task-scope); NONE for
    a task branch (another task's scope is not its own). Refs of a push never vouch otherwise. New
    task branches of one push are walked together: a commit several of them hold is the run's whose
    folder holds it (a run started from another run, both pushed at once, is judged as if pushed one
    after the other), and is refused for each when it stays in none of their folders.
I3  Debug-only commits. A commit that before the push only debug branches held is judged by every
    non-debug update that lands it, and refused there (debug-leak), whatever the route: merge,
    fast-forward, new branch, tag, another namespace.
I4  Provenance. Merge and squash sources are proven by refs as they were before the push, or by the
    new tip of a branch of the same push, which is itself judged in full under its own kind (I1, I2):
    the push is refused whole if it fails. Where a branch starts (hotfix-size, task-base) is proven
    by refs before the push only.
I5  The first-parent line of an update stops only at `old` (for a new ref: at what I1 and I2 count
    as judged), so main's rules for commits made *on* it are never skipped.
I6  Other refs. Tags and allowed namespaces land commits too: they are judged by the content rules
    (I1-I3 apply, with the rules of a non-debug, non-task kind).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Callable, Optional

if TYPE_CHECKING:
    from policy.config import Policy
    from policy.engine import RepoState


class Ledger:
    """The refs before the push and in it, by kind and by tip, and what each update may skip."""

    def __init__(
        self, policy: Policy, state: RepoState, pushed: dict[str, str], kind: Callable[[str], Optional[str]]
    ) -> None:
        self.policy = policy
        self.state = state
        self.pushed = pushed  # branch -> new tip, for every branch the push creates or moves
        self.kind = kind
        self.walked: dict[str, str] = {}  # branch -> tip whose commits this push has judged
        self._by_kind: dict[tuple[Optional[str], bool], list[tuple[str, str]]] = defaultdict(list)
        self._by_tip: dict[str, set[str]] = defaultdict(set)
        for in_push, table in ((False, state.branches), (True, pushed)):
            for name, sha in table.items():
                self._by_kind[(kind(name), in_push)].append((name, sha))
                self._by_tip[sha].add(name)
        self._tips: dict[tuple[tuple[Optional[str], ...], bool], list[str]] = {}
        self._origins_in_push: Optional[list[str]] = None
        # the push creates main in a repository that has none (exempt from main-direct-commit)
        self.bootstrap = bool(self._by_kind.get(("main", True))) and not self._by_kind.get(("main", False))

    # ------------------------------------------------------------------ refs
    def tips(self, kinds: Iterable[Optional[str]], exclude: str = "", before_only: bool = False) -> list[str]:
        """Tips of the branches of these kinds (before the push, and in it unless `before_only`),
        except branch `exclude`."""
        key = (tuple(sorted(kinds, key=str)), before_only)
        if key not in self._tips:
            tables = (False,) if before_only else (False, True)
            self._tips[key] = sorted(
                {sha for kind in key[0] for in_push in tables for _, sha in self._by_kind.get((kind, in_push), ())}
            )
        found = self._tips[key]
        if not exclude:
            return found
        # only the excluded branch's own tips go, and only where no other branch of these kinds shares them
        own = {self.state.branches.get(exclude), None if before_only else self.pushed.get(exclude)} - {None}
        if not own:
            return found
        keep = {
            sha
            for kind in key[0]
            for in_push in ((False,) if before_only else (False, True))
            for name, sha in self._by_kind.get((kind, in_push), ())
            if sha in own and name != exclude
        }
        return [sha for sha in found if sha not in own or sha in keep]

    def names_at(self, sha: str, exclude: str) -> list[str]:
        return sorted(self._by_tip.get(sha, set()) - {exclude})

    # ------------------------------------------------------------------ I1
    def judged_before(self, kind: Optional[str]) -> list[str]:
        """Tips whose commits count as judged for an update of `kind` (I1; not for task branches,
        see `task_origins`). The updated branch's own old tip is among them, as it should be."""
        trusted = self.state.trusted_kinds
        if trusted is not None:
            return self.tips([k for k in trusted if k != "debug" or kind == "debug"], before_only=True)
        if kind == "debug":
            return self.tips([*self.policy.kinds, None], before_only=True)
        return self.tips([*(k for k in self.policy.kinds if k != "debug"), None], before_only=True)

    def task_origins(self) -> list[str]:
        """Tips before the push whose commits a task branch does not count as its own (I1). The
        push that creates main in a repository that has none (a bootstrap, a first mirror push) is
        the exception: its main holds the history the runs started from, so main's new tip counts."""
        origins = [k for k in self.policy.settings("task-base")["from"] if k != "task"]
        found = self.tips([*origins, "task"], before_only=True)
        return sorted({*found, *self.tips(["main"])}) if self.bootstrap else found

    def origins_in_push(self) -> list[str]:
        """Branches of the runs' origin kinds (main, ...) that this push moves (not a bootstrap)."""
        if self.bootstrap:
            return []
        if self._origins_in_push is None:  # asked once per refused run: worked out once per push
            origins = [k for k in self.policy.settings("task-base")["from"] if k != "task"]
            moved = (name for kind in origins for name, _ in self._by_kind[(kind, True)])
            self._origins_in_push = sorted(name for name in moved if name in self.state.branches)
        return self._origins_in_push

    # ------------------------------------------------------------------ I2
    def vouchers(self, branch: str, kind: Optional[str]) -> list[str]:
        """Tips walked earlier in this push whose commits an update of `kind` may skip (I2)."""
        if kind == "task":
            return []
        return sorted(
            {
                tip
                for name, tip in self.walked.items()
                if name != branch and (kind == "debug" or self.kind(name) != "debug")
            }
        )

    def exclude(self, kind: Optional[str], old: Optional[str], merge_base: Optional[str]) -> list[str]:
        """What the walk of an update of `kind` from `old` (None: a new ref) leaves out (I1, I2).
        A pull request (`merge_base`: the target's tip) judges everything its source brings."""
        out = [merge_base] if merge_base else ([old] if old else [])
        if kind == "task":
            out += self.task_origins()
        elif not merge_base:
            out += self.judged_before(kind)
        return sorted(set(out))

    # ------------------------------------------------------------------ I3
    def debug_only_query(self) -> Optional[tuple[list[str], list[str]]]:
        """(debug tips, other tips) before the push: `rev-list` of the first minus the second is
        the set of commits only debug branches hold (I3); None when no debug branch exists."""
        debug = self.tips(["debug"], before_only=True)
        if not debug:
            return None
        return debug, self.tips([*(k for k in self.policy.kinds if k != "debug"), None], before_only=True)

    # ------------------------------------------------------------------ I4
    def starts(self, kinds: Iterable[str], branch: str) -> list[str]:
        """Tips of these kinds before the push (where a hotfix may start), except `branch`."""
        return self.tips([k for k in kinds if self.policy.has_kind(k)], branch, before_only=True)
