"""The reference judge: the verdict model of docs/trust-model.md, written the slow and
obvious way, to check the fast engine against (tests/test_reference_property.py).

Per ref, per commit, no batching, no exclusions beyond the ones the model names: every question
is one plain git command (`rev-list`, `merge-base --is-ancestor`, `ls-tree -r`, `cat-file`,
`merge-tree --write-tree`, `diff --text --numstat`), run with replace refs and grafts ignored.
Answers about immutable objects (a commit, a tree, a blob, what a commit reaches) are memoised;
nothing else is. It reuses only the engine's pure predicates on one message, one name or one
file (policy.commitmsg, Policy.kind_of/accepts/is_debug_path/..., task_config.problems,
parse_policy_bytes), which have tests of their own.

Where the model is silent, the reference follows the engine's conventions (see the comments
marked CONVENTION): they decide which rule id a failure carries, never whether it fails.
"""

from __future__ import annotations

import os
import re
import subprocess
from typing import NamedTuple, Optional

import yaml

from policy.commitmsg import commit_type, has_trailer_key, squash_record
from policy.config import POLICY_FILE, Policy, PolicyError, parse_policy_bytes
from policy.naming import parse_semver
from policy.rules.commit_message import problems as message_problems
from policy.rules.task_config import load_yaml
from policy.rules.task_config import problems as config_problems

ZERO = "0" * 40
# The namespaces hosting platforms write themselves (docs/trust-model.md, Refs).
DEFAULT_ALLOWED_REFS = (
    "refs/merge-requests/",
    "refs/keep-around/",
    "refs/environments/",
    "refs/pipelines/",
    "refs/pull/",
)


class Found(NamedTuple):
    rule: str
    ref: str
    commit: str
    path: str
    why: str

    def __str__(self) -> str:
        return f"{self.rule:<18} {self.commit[:7] or '-------'} {self.ref} {self.path} {self.why}"


class Entry(NamedTuple):
    mode: str
    type: str
    sha: str
    size: int  # -1 for gitlinks


class CommitInfo(NamedTuple):
    sha: str
    tree: str
    parents: tuple[str, ...]
    message: str


class GitFailed(Exception):
    pass


class Reference:
    """The verdict of one push into the bare repository `repo`, whose refs are as before the push."""

    def __init__(self, repo: str, policy: Optional[Policy] = None) -> None:
        self.repo = repo
        self.policy = policy or Policy.defaults()
        self.env = {
            **os.environ,
            "GIT_NO_REPLACE_OBJECTS": "1",
            "GIT_GRAFT_FILE": os.devnull,
            "LC_ALL": "C",
            "GIT_TERMINAL_PROMPT": "0",
        }
        # memoised answers about immutable objects
        self._commits: dict[str, CommitInfo] = {}
        self._trees: dict[str, dict[str, Entry]] = {}
        self._blobs: dict[str, bytes] = {}
        self._reach: dict[str, frozenset[str]] = {}
        self.calls = 0

    # ------------------------------------------------------------------ one git command each
    def git(self, *args: str, ok: tuple[int, ...] = (0,)) -> tuple[int, bytes]:
        self.calls += 1
        proc = subprocess.run(
            ["git", "--no-replace-objects", "-c", "core.quotePath=false", *args],
            cwd=self.repo, env=self.env, capture_output=True,
        )  # fmt: skip
        if proc.returncode not in ok:
            raise GitFailed(f"git {' '.join(args)}: {proc.stderr.decode(errors='replace').strip()}")
        return proc.returncode, proc.stdout

    def refs(self) -> dict[str, str]:
        _, out = self.git("for-each-ref", "--format=%(objectname) %(refname)")
        refs = {}
        for line in out.decode("utf-8", "surrogateescape").splitlines():
            sha, name = line.split(" ", 1)
            refs[name] = sha
        return refs

    def rev_list(self, *args: str) -> list[str]:
        _, out = self.git("rev-list", *args, "--")
        return out.decode().split()

    def reach(self, tip: str) -> frozenset[str]:
        """Every commit `tip` reaches (itself included)."""
        if tip not in self._reach:
            self._reach[tip] = frozenset(self.rev_list(tip))
        return self._reach[tip]

    def reach_any(self, tips: list[str]) -> frozenset[str]:
        out: set[str] = set()
        for tip in tips:
            out |= self.reach(tip)
        return frozenset(out)

    def is_ancestor(self, a: str, b: str) -> bool:
        code, _ = self.git("merge-base", "--is-ancestor", a, b, ok=(0, 1))
        return code == 0

    def object_type(self, sha: str) -> Optional[str]:
        code, out = self.git("cat-file", "-t", sha, ok=(0, 1, 128))
        return out.decode().strip() if code == 0 else None

    def peel(self, obj: str) -> Optional[str]:
        """The commit a ref target peels to, following tag objects with cat-file -p."""
        for _ in range(64):
            kind = self.object_type(obj)
            if kind == "commit":
                return obj
            if kind != "tag":
                return None
            _, out = self.git("cat-file", "-p", obj)
            obj = out.split(b"\n", 1)[0].split()[1].decode()
        return None

    def commit(self, sha: str) -> CommitInfo:
        if sha not in self._commits:
            _, out = self.git("cat-file", "-p", sha)
            head, _, message = out.partition(b"\n\n")
            tree, parents = "", []
            for line in head.split(b"\n"):
                key, _, value = line.partition(b" ")
                if key == b"tree":
                    tree = value.decode()
                elif key == b"parent":
                    parents.append(value.decode())
            self._commits[sha] = CommitInfo(sha, tree, tuple(parents), message.decode("utf-8", "surrogateescape"))
        return self._commits[sha]

    def files(self, tree: Optional[str]) -> dict[str, Entry]:
        """Every path of a tree (`ls-tree -r -l`); {} for no tree."""
        if tree is None:
            return {}
        if tree not in self._trees:
            _, out = self.git("ls-tree", "-r", "-l", "-z", tree)
            entries = {}
            for record in out.split(b"\0"):
                if not record:
                    continue
                meta, _, path = record.partition(b"\t")
                mode, kind, sha, size = meta.decode().split()
                entries[path.decode("utf-8", "surrogateescape")] = Entry(
                    mode, kind, sha, -1 if size == "-" else int(size)
                )
            self._trees[tree] = entries
        return self._trees[tree]

    def blob(self, sha: str) -> bytes:
        if sha not in self._blobs:
            _, self._blobs[sha] = self.git("cat-file", "blob", sha)
        return self._blobs[sha]

    def read(self, commit: str, path: str) -> Optional[bytes]:
        entry = self.files(self.commit(commit).tree).get(path)
        return self.blob(entry.sha) if entry and entry.type == "blob" else None

    def merge_tree(self, ours: str, theirs: str) -> Optional[tuple[str, bool, set[str]]]:
        """(tree, clean, conflicted paths) of git's automatic merge; None when git cannot merge."""
        code, out = self.git("merge-tree", "--write-tree", "--name-only", "-z", "--no-messages", ours, theirs,
                             ok=(0, 1, 128))  # fmt: skip
        if code == 128:
            return None
        parts = out.split(b"\0")
        conflicted = {p.decode("utf-8", "surrogateescape") for p in parts[1:] if p}
        return parts[0].decode(), code == 0, conflicted

    def numstat(self, base: str, tip: str) -> int:
        _, out = self.git("diff", "--text", "--numstat", "--no-renames", "--no-ext-diff", "--no-textconv", base, tip)
        total = 0
        for line in out.decode("utf-8", "surrogateescape").splitlines():
            added, deleted, _ = line.split("\t", 2)
            total += int(added) + int(deleted)
        return total

    def merge_base(self, a: str, b: str) -> Optional[str]:
        code, out = self.git("merge-base", a, b, ok=(0, 1))
        return out.decode().split()[0] if code == 0 and out.strip() else None

    # ------------------------------------------------------------------ what a commit changes
    def changes(self, sha: str) -> dict[str, Optional[Entry]]:
        """path -> new entry (None: deleted). A merge: the paths whose entry differs from EVERY
        parent (the dense combined diff); a root commit: everything against the empty tree."""
        c = self.commit(sha)
        mine = self.files(c.tree)
        parents = [self.files(self.commit(p).tree) for p in c.parents] or [{}]
        paths = set(mine).union(*parents)
        out: dict[str, Optional[Entry]] = {}
        for path in sorted(paths):
            new = mine.get(path)
            key = (new.mode, new.sha) if new else None
            if all(((old.mode, old.sha) if (old := p.get(path)) else None) != key for p in parents):
                out[path] = new
        return out

    # ------------------------------------------------------------------ the verdict
    def judge(self, updates: list[tuple[str, str, str]], before: Optional[dict[str, str]] = None) -> list[Found]:
        return _Push(self, self.refs() if before is None else before, updates).run()


def unsafe_component(part: str) -> bool:
    """Empty, `.`, `..` or `.git` (any case), ignoring trailing dots and spaces."""
    stripped = part.rstrip(". ")
    return part == "" or stripped == "" or stripped.lower() == ".git"


def is_dvc_pointer(content: bytes) -> bool:
    """A YAML mapping with an `outs` list of mappings that each have a `path` (what dvc add writes)."""
    try:
        data = yaml.safe_load(content.decode("utf-8"))
    except Exception:
        return False
    if not isinstance(data, dict) or not isinstance(data.get("outs"), list) or not data["outs"]:
        return False
    return all(isinstance(out, dict) and "path" in out for out in data["outs"])


def read_version(content: Optional[bytes], key: str) -> Optional[tuple[int, ...]]:
    if content is None:
        return None
    data, error = load_yaml(content)
    if error is not None or not isinstance(data, dict):
        return None
    version = parse_semver(data.get(key))
    return tuple(version) if version is not None else None


class _Push:
    def __init__(self, ref: Reference, before: dict[str, str], updates: list[tuple[str, str, str]]) -> None:
        self.r = ref
        self.p = ref.policy
        self.before = before
        self.updates = updates
        self.out: list[Found] = []
        self.branches = {n[len("refs/heads/") :]: sha for n, sha in before.items() if n.startswith("refs/heads/")}
        self.pushed = {
            u[0][len("refs/heads/") :]: u[2] for u in updates if u[0].startswith("refs/heads/") and u[2] != ZERO
        }
        nondebug = [sha for n, sha in self.branches.items() if self.kind(n) != "debug"]
        debug = [sha for n, sha in self.branches.items() if self.kind(n) == "debug"]
        self.nondebug_tips = sorted(set(nondebug))
        self.on_nondebug = ref.reach_any(nondebug)
        self.on_debug = ref.reach_any(debug)

    def kind(self, branch: str) -> Optional[str]:
        return self.p.kind_of(branch)

    def add(self, rule: str, ref: str, commit: str = "", path: str = "", why: str = "") -> None:
        known = rule in self.p.cfg["rules"]  # ref-namespace, unsafe-path, policy-file: always on
        if not known or self.p.enabled(rule):
            self.out.append(Found(rule, ref, commit, path, why))

    def run(self) -> list[Found]:
        for ref, old, new in self.updates:
            if ref.startswith("refs/heads/"):
                self.branch_update(ref, ref[len("refs/heads/") :], old, new)
            elif ref.startswith("refs/tags/"):
                self.tag_update(ref, ref[len("refs/tags/") :], old, new)
            else:
                self.other_update(ref, old, new)
        return self.out

    # ------------------------------------------------------------------ holders of a commit
    def holders(self, commit: str, exclude: str) -> set[Optional[str]]:
        """Kinds of the branches that hold `commit`: as they were before the push, or the new
        tip of a branch of this push (`exclude`: the branch the question is asked for)."""
        kinds: set[Optional[str]] = set()
        for table in (self.branches, self.pushed):
            for name, tip in table.items():
                if name != exclude and commit in self.r.reach(tip):
                    kinds.add(self.kind(name))
        return kinds

    def tip_kinds(self, commit: str, exclude: str) -> set[Optional[str]]:
        names = {n for table in (self.branches, self.pushed) for n, tip in table.items() if tip == commit}
        return {self.kind(n) for n in names - {exclude}} - {None}

    # ------------------------------------------------------------------ content rules
    def content(self, ref: str, sha: str, debug: bool = False) -> None:
        """large-file, debug-leak (paths and route: not for a debug branch), unsafe-path,
        task-config for one judged commit. CONVENTION: a debug branch's files are on the server
        too, so every content rule but debug-leak judges them."""
        p = self.p
        if not debug and sha in self.on_debug and sha not in self.on_nondebug:
            self.add("debug-leak", ref, sha, why="a commit only debug branches hold")
            return  # CONVENTION: the debug branch's commit is refused as a whole, once

        for path, entry in self.r.changes(sha).items():
            if entry is None:
                continue
            if p.is_debug_path(path) and not debug:
                self.add("debug-leak", ref, sha, path, "debug run files")
            if any(unsafe_component(part) for part in path.split("/")):
                self.add("unsafe-path", ref, sha, path, "path git will not check out")
            if entry.type != "blob":
                continue
            if entry.size > p.max_bytes:
                self.add("large-file", ref, sha, path, f"{entry.size} bytes")
            if path.lower().endswith(p.suffixes) and not p.large_file_exempt(path):
                self.add("large-file", ref, sha, path, "data/model suffix")
            if path.endswith(".dvc") and not is_dvc_pointer(self.r.blob(entry.sha)):
                self.add("large-file", ref, sha, path, "not a DVC pointer")
            if path.startswith((".dvc/cache/", ".dvc/tmp/")):
                self.add("large-file", ref, sha, path, "DVC cache in git")
            if p.is_task_config(path):
                found = config_problems(self.r.blob(entry.sha), p)
                if found:
                    self.add("task-config", ref, sha, path, "; ".join(found))

    # ------------------------------------------------------------------ branches
    def branch_update(self, ref: str, name: str, old: str, new: str) -> None:
        p, r = self.p, self.r
        kind = self.kind(name)
        protected = kind in p.protected_kinds
        if new == ZERO:
            if protected:
                self.add("protected-ref", ref, old, why="deleted")
            return
        created = old == ZERO
        if not p.allowed_name(name):
            self.add("branch-name", ref, new)
        policy_blob = r.read(new, POLICY_FILE)
        if policy_blob is not None:
            try:
                parse_policy_bytes(policy_blob, f"{name}:{POLICY_FILE}")
            except PolicyError as exc:
                self.add("policy-file", ref, new, POLICY_FILE, str(exc))
        if protected and not created and not r.is_ancestor(old, new):
            self.add("protected-ref", ref, new, why="non-fast-forward")

        # judged: not reachable before the push from a non-debug branch (for debug: any branch)
        counted = sorted(set(self.branches.values())) if kind == "debug" else self.nondebug_tips
        if kind == "task":  # CONVENTION: a task branch judges its own commits with every rule
            origins = set(p.settings("task-base")["from"]) | {"task"}
            counted = sorted({sha for n, sha in self.branches.items() if n != name and self.kind(n) in origins})
            counted += [] if created else [old]
            if not any(self.kind(n) == "main" for n in self.branches):  # a bootstrap (see task_rules)
                counted += sorted(sha for n, sha in self.pushed.items() if self.kind(n) == "main")
        judged = r.rev_list(new, *[f"^{t}" for t in counted])
        if created:
            others = sorted({sha for n, sha in self.branches.items() if n != name})
            if kind == "task":  # CONVENTION: a new run's line is its own commits' (see `counted`)
                others = counted
            line = r.rev_list("--first-parent", new, *[f"^{t}" for t in others])
        else:
            line = r.rev_list("--first-parent", new, f"^{old}")
        strict = kind in p.settings("commit-message")["strict_branches"]
        task_type = p.settings("task-type")["type"]
        for sha in judged:
            c = r.commit(sha)
            merge = len(c.parents) > 1
            found = message_problems(c.message, merge, strict and sha in line, p)
            if found:
                self.add("commit-message", ref, sha, why="; ".join(found))
            if not merge and commit_type(c.message) == task_type:
                for path in r.changes(sha):
                    if not p.in_tasks(path):
                        self.add("task-type", ref, sha, path, "task commit outside tasks/")
            if kind != "task":
                self.content(ref, sha, debug=kind == "debug")
        # CONVENTION: on a strict branch every commit of the first-parent line follows the strict
        # form, also one already on another branch (SPEC: on main every commit follows the format)
        if strict:
            for sha in line:
                if sha not in judged:
                    c = r.commit(sha)
                    found = message_problems(c.message, len(c.parents) > 1, True, p)
                    if found:
                        self.add("commit-message", ref, sha, why="; ".join(found))

        if kind == "task":
            self.task_rules(ref, name, old, new, created)
        if kind == "hotfix":
            self.hotfix(ref, name, new)

        bootstrap = kind == "main" and created and not any(self.kind(n) == "main" for n in self.branches)
        for sha in reversed(line):
            c = r.commit(sha)
            if len(c.parents) > 1:
                if kind == "main" and bootstrap:
                    continue
                self.merge_on_line(ref, name, kind, c)
            elif kind == "main" and not bootstrap:
                self.main_non_merge(ref, name, c)

    def task_rules(self, ref: str, name: str, old: str, new: str, created: bool) -> None:
        p, r = self.p, self.r
        origins = set(p.settings("task-base")["from"]) | {"task"}
        bases = sorted({sha for n, sha in self.branches.items() if n != name and self.kind(n) in origins})
        if not any(self.kind(n) == "main" for n in self.branches):  # CONVENTION: a bootstrap's main holds
            bases += sorted(sha for n, sha in self.pushed.items() if self.kind(n) == "main")  # the runs' history
        base_reach = r.reach_any(bases)
        # CONVENTION: the own commits this update lands (commits already on the branch before the
        # push were judged by the push that put them there)
        landed = set(r.rev_list(new, *([] if created else [f"^{old}"])))
        folder = p.task_folder(name)
        chained = [(n, tip) for n, tip in sorted(self.pushed.items()) if n != name and self.kind(n) == "task"]
        for sha in sorted(landed - base_reach):  # its own commits: task-scope and every content rule
            paths = list(r.changes(sha))
            # CONVENTION: a commit of another task branch of the same push, within that branch's own
            # folder, is that run's (a run started from another run, both pushed at once)
            theirs = any(
                r.is_ancestor(sha, tip) and all(path.startswith(p.task_folder(n)) for path in paths)
                for n, tip in chained
            )
            for path in paths:
                if not path.startswith(folder) and not theirs:
                    self.add("task-scope", ref, sha, path)
            self.content(ref, sha)
        if not created:
            return
        start: Optional[str] = new
        while start is not None and start not in base_reach:
            parents = r.commit(start).parents
            start = parents[0] if parents else None
        if start is None:
            self.add("task-base", ref, why="starts from no main or task commit")
            return
        version = read_version(r.read(start, p.main_config), p.version_key)
        named = p.name_field(name, "semver")
        if version is None or named is None or ".".join(map(str, version)) != named:
            self.add("task-base", ref, start, why=f"named {named}, VERSION there {version}")

    def hotfix(self, ref: str, name: str, new: str) -> None:
        counts = []
        starts = [tip for n, tip in sorted(self.branches.items()) if n != name and self.kind(n) in ("main", "dev")]
        if not starts:  # CONVENTION: a server with no main nor dev yet (a first mirror push) has no start
            return
        for tip in starts:
            base = self.r.merge_base(tip, new)
            if base is not None:
                counts.append(self.r.numstat(base, new))
        if not counts:
            self.add("hotfix-size", ref, new, why="shares no history with main or dev")
        elif min(counts) > self.p.settings("hotfix-size")["max_lines"]:
            self.add("hotfix-size", ref, new, why=f"{min(counts)} lines")

    def merge_on_line(self, ref: str, name: str, kind: Optional[str], c: CommitInfo) -> None:
        p, _r = self.p, self.r
        accepted = set(p.accepts(kind))
        for parent in c.parents[1:]:
            held = self.holders(parent, name)
            if held & accepted:
                continue
            if held and held <= {"debug"} and kind != "debug":
                self.add("debug-leak", ref, c.sha, why=f"merges {parent[:7]}, only on debug branches")
            else:
                self.add("merge-source", ref, c.sha, why=f"merges {parent[:7]}, held by {held}")
        if kind == "main" and not self.real_merge(c):
            self.add("main-direct-commit", ref, c.sha, why="not a real merge")
        if kind in ("main", "dev") and len(c.parents) == 2:
            parent = c.parents[1]
            tips = self.tip_kinds(parent, name)
            # CONVENTION: a branch pointing at the merged commit names what was merged; else the
            # kinds that hold it (a task branch, and only debug branches besides)
            held = self.holders(parent, name) - {None}
            from_task = tips == {"task"} if tips else ("task" in held and held <= {"task", "debug"})
            if from_task and commit_type(c.message) != p.settings("task-type")["type"]:
                self.add("task-type", ref, c.sha, why="task merge without type task")
            elif (
                "task" not in held | tips
                and held & accepted  # a merge refused for its source says so once (merge-source)
                and commit_type(c.message) == p.settings("task-type")["type"]
            ):
                self.add("task-type", ref, c.sha, why="task-typed merge of no task branch")

    def real_merge(self, c: CommitInfo) -> bool:
        r = self.r
        if len(c.parents) != 2:
            return False
        first, second = c.parents
        if r.is_ancestor(second, first):
            return False
        merged = r.merge_tree(first, second)
        if merged is None:
            return False
        tree, _, conflicted = merged
        mine, theirs = r.files(c.tree), r.files(tree)
        differ = {path for path in set(mine) | set(theirs) if mine.get(path) != theirs.get(path)}
        return differ <= conflicted

    def main_non_merge(self, ref: str, name: str, c: CommitInfo) -> None:
        p, r = self.p, self.r
        trailer = p.settings("squash-merge")["trailer"]
        record = squash_record(c.message, trailer)
        changes = r.changes(c.sha)
        if record is not None:
            self.squash(ref, name, c, record)
            return
        # CONVENTION: a commit that changes only the main config is a version bump candidate, and
        # what is wrong with it is a version-bump violation
        if list(changes) == [p.main_config] and changes[p.main_config] is not None and c.parents:
            before = r.files(r.commit(c.parents[0]).tree).get(p.main_config)
            if before is not None:
                self.bump(ref, c)
                return
        self.add("main-direct-commit", ref, c.sha, why="direct commit")
        if has_trailer_key(c.message, trailer):
            self.add("squash-merge", ref, c.sha, why="unreadable squash record")

    def bump(self, ref: str, c: CommitInfo) -> None:
        p, r = self.p, self.r
        old = r.read(c.parents[0], p.main_config) or b""
        new = r.read(c.sha, p.main_config) or b""
        key = p.version_key
        a, b = read_version(old, key), read_version(new, key)
        line = re.compile(rf"^\s*{re.escape(key)}\s*:")
        old_lines = old.decode("utf-8", "replace").splitlines()
        new_lines = new.decode("utf-8", "replace").splitlines()
        only_version = len(old_lines) == len(new_lines) and all(
            x == y or (line.match(x) and line.match(y)) for x, y in zip(old_lines, new_lines)
        )
        if a is None or b is None or b <= a or not only_version:
            self.add("version-bump", ref, c.sha, p.main_config, f"{a} -> {b}, only VERSION: {only_version}")

    def squash(self, ref: str, name: str, c: CommitInfo, record: object) -> None:
        p, r = self.p, self.r
        branch, commit = record.branch, record.commit  # type: ignore[attr-defined]
        source_kind = self.kind(branch)
        if source_kind == "debug":
            self.add("debug-leak", ref, c.sha, why="squash of a debug branch")
            return
        ok = source_kind in p.accepts("main") and bool(c.parents) and r.object_type(commit) == "commit"
        if ok:
            tips = [t for t in (self.branches.get(branch), self.pushed.get(branch)) if t and branch != name]
            ok = any(r.is_ancestor(commit, t) for t in tips)
        if ok:
            merged = r.merge_tree(c.parents[0], commit)
            ok = merged is not None and merged[1] and merged[0] == c.tree
        if not ok:
            self.add("squash-merge", ref, c.sha, why=f"squash of {branch} {commit[:7]} not proven")
        if source_kind == "task" and commit_type(c.message) != p.settings("task-type")["type"]:
            self.add("task-type", ref, c.sha, why="task squash without type task")

    # ------------------------------------------------------------------ tags and other refs
    def tag_update(self, ref: str, name: str, old: str, new: str) -> None:
        version = self.p.version_of_tag(name)
        if version is not None and old != ZERO:
            self.add("protected-ref", ref, new if new != ZERO else old, why="version tag moved or deleted")
        if new == ZERO:
            return
        commit = self.peeled(ref, new)
        if version is not None and old == ZERO:
            self.version_tag(ref, version, new, commit)
        if commit is not None:
            self.judge_content(ref, commit)

    def version_tag(self, ref: str, version: str, obj: str, commit: Optional[str]) -> None:
        r, p = self.r, self.p
        problems = []
        if r.object_type(obj) != "tag":
            problems.append("not annotated")
        if commit is None:
            problems.append("not a commit")
        else:
            mains = [t for table in (self.branches, self.pushed) for n, t in table.items() if self.kind(n) == "main"]
            if not any(r.is_ancestor(commit, t) for t in mains):
                problems.append("not on main")
            have = read_version(r.read(commit, p.main_config), p.version_key)
            if have is None or ".".join(map(str, have)) != version:
                problems.append(f"VERSION there is {have}")
        if problems:
            self.add("version-tag", ref, commit or "", why="; ".join(problems))

    def peeled(self, ref: str, obj: str) -> Optional[str]:
        commit = self.r.peel(obj)
        if commit is None:
            self.add("ref-namespace", ref, obj, why="does not point at a commit")
        return commit

    def judge_content(self, ref: str, commit: str) -> None:
        for sha in self.r.rev_list(commit, *[f"^{t}" for t in self.nondebug_tips]):
            self.content(ref, sha)

    def other_update(self, ref: str, old: str, new: str) -> None:
        if new == ZERO:
            return
        allowed = self.p.cfg.get("refs", {}).get("allow", DEFAULT_ALLOWED_REFS)
        if not any(ref.startswith(prefix) for prefix in allowed):
            self.add("ref-namespace", ref, new, why="namespace not allowed")
            return
        commit = self.peeled(ref, new)
        if commit is not None:
            self.judge_content(ref, commit)
