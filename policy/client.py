"""The client hooks: the server's rules, applied on the laptop at the moment a mistake is made.

pre-commit         the staged change as the commit it will become (policy-branch,
                   policy-task-config, policy-large-files)
commit-msg         the message (commit-message, task-type); after `git merge --squash`, the
                   squash record the server verifies; with commit-message's `fix: true`, the
                   mechanical slips corrected in place
pre-merge-commit   the merge being made (merge-source, debug-leak)
pre-push           the server's full verdict for every ref being pushed

Hot path: no click, no GitPython, no PyYAML unless a policy file or a config must be parsed.
A commit-msg run costs two git processes (rev-parse, one cat-file --batch).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Callable, NamedTuple, Optional

from policy import report
from policy.commitmsg import add_trailer, clean_message, commit_type, squash_record, subject_line
from policy.config import Policy, PolicyError
from policy.gitio import CatFile, Git, GitError, decode
from policy.loading import client_refs, from_objects, read_file, specs
from policy.model import ZERO, Change, Commit, Incomplete, RefUpdate, Violation

REMOTE = os.environ.get("BRANCH_POLICY_REMOTE", "origin")
CHECKS = ("branch", "task-config", "large-files")


class Here(NamedTuple):
    """The repository a hook runs in."""

    git: Git
    objects: CatFile  # one cat-file for every object question of the hook
    git_dir: str
    top: str
    branch: Optional[str]  # None on a detached HEAD
    born: bool  # False on an unborn branch (its first commit is being made)
    policy: Policy

    def file(self, name: str) -> str:
        return os.path.join(self.git_dir, name)

    def exists(self, name: str) -> bool:
        return os.path.exists(self.file(name))

    @property
    def kind(self) -> Optional[str]:
        return self.policy.kind_of(self.branch) if self.branch else None

    @property
    def ref(self) -> str:
        return f"refs/heads/{self.branch}" if self.branch else "HEAD"


def locate(git: Git) -> tuple[str, str]:
    """(git dir, top of the work tree). Git runs hooks at the top of the work tree, where `.git`
    is the git directory or a `gitdir:` file (a worktree, a submodule): read without a process.
    Anything else (GIT_DIR set, a run from elsewhere) asks git."""
    top = os.getcwd()
    dot = os.path.join(top, ".git")
    if "GIT_DIR" not in os.environ and "GIT_WORK_TREE" not in os.environ:
        git_dir: Optional[str] = dot if os.path.isdir(dot) else None
        if git_dir is None and os.path.isfile(dot):
            with open(dot, encoding="utf-8", errors="surrogateescape") as handle:
                pointer = handle.read().strip()
            if pointer.startswith("gitdir: "):
                git_dir = os.path.normpath(os.path.join(top, pointer[len("gitdir: ") :]))
        if git_dir and os.path.isfile(os.path.join(git_dir, "HEAD")):
            return git_dir, top
    git_dir, top = decode(git.run("rev-parse", "--absolute-git-dir", "--show-toplevel")).splitlines()[:2]
    return git_dir, top


def here(policy_file: Optional[str] = None, git: Optional[Git] = None) -> Here:
    """HEAD and the policy in one cat-file --batch: the only git process every hook needs."""
    git = git or Git()
    git_dir, top = locate(git)
    with open(os.path.join(git_dir, "HEAD"), encoding="utf-8", errors="surrogateescape") as handle:
        head_ref = handle.read().strip()
    branch = head_ref[len("ref: refs/heads/") :] if head_ref.startswith("ref: refs/heads/") else None
    refs = client_refs(REMOTE)
    objects = git.session()
    found = objects.read(["HEAD^{commit}", *([] if policy_file else specs(refs))])
    policy = read_file(policy_file) if policy_file else from_objects(found, refs, top)
    return Here(git, objects, git_dir, top, branch, found.get("HEAD^{commit}") is not None, policy)


def emit(found: Sequence[Violation], what: str, pending: str = "") -> int:
    """Print the violations for a person (`pending`: what stands for the commit not made yet)."""
    if not found:
        return 0
    pending = pending or {"commit": "staged", "merge": "this merge"}.get(what, "-")
    for line in report.text_lines(found, pending=pending, color=report.use_color(sys.stderr),
                                  columns=report.width(sys.stderr)):  # fmt: skip
        print(line, file=sys.stderr)
    print(f"branch-policy: {what} refused; fix the above (or, if you must, bypass with --no-verify: "
          "the server will still judge it)", file=sys.stderr)  # fmt: skip
    return 1


def _options(args: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """--only CHECK and --policy FILE, then positional arguments (pre-commit may add file names)."""
    opts: dict[str, str] = {}
    rest: list[str] = []
    it = iter(args)
    for arg in it:
        if arg in ("--only", "--policy"):
            opts[arg[2:]] = next(it, "")
        elif arg.startswith(("--only=", "--policy=")):
            key, _, value = arg[2:].partition("=")
            opts[key] = value
        else:
            rest.append(arg)
    return opts, rest


def _guard(run: object) -> int:
    try:
        return int(run())  # type: ignore[operator]
    except PolicyError as exc:
        print(f"branch-policy: {exc}", file=sys.stderr)
        return 2
    except (GitError, Incomplete) as exc:
        print(f"branch-policy: {exc}", file=sys.stderr)
        return 2


# --------------------------------------------------------------------------- pre-commit


def pre_commit(args: Sequence[str]) -> int:
    """`--only branch|task-config|large-files` selects one hook id's checks (default: all)."""
    opts, _ = _options(args)
    only = opts.get("only")
    if only and only not in CHECKS:
        print(f"branch-policy: --only takes one of {', '.join(CHECKS)}, not {only!r}", file=sys.stderr)
        return 2
    return _guard(lambda: _pre_commit(opts.get("policy"), only))


def _pre_commit(policy_file: Optional[str], only: Optional[str]) -> int:
    git = Git()
    staged = git.start_staged()  # runs while here() reads HEAD and the policy
    return emit(judge_staged(here(policy_file, git), only, staged), "commit")


def judge_staged(h: Here, only: Optional[str] = None, started: Optional[Callable[[], bytes]] = None) -> list[Violation]:
    from policy.rules import branch_name, debug_leak, main_direct_commit, task_scope

    p = h.policy
    staged = h.git.staged(started)
    sha = "0" * 40  # the commit does not exist yet
    draft = Commit(sha, "", (), "", tuple(staged))
    found: list[Violation] = []
    if only in (None, "branch") and h.branch:
        if p.enabled("branch-name"):
            found += branch_name.check(h.ref, h.branch, p)
        merging, squashing = h.exists("MERGE_HEAD"), h.exists("SQUASH_MSG")
        if h.kind == "main" and h.born and not merging and not squashing:
            category = main_direct_commit.classify(draft, p)
            if category == main_direct_commit.BUMP and p.enabled("version-bump"):
                found += _version_bump(h, draft)
            elif category == main_direct_commit.DIRECT and p.enabled("main-direct-commit"):
                found += [v._replace(commit="") for v in main_direct_commit.check(draft, h.ref, h.branch, p)]
        if h.kind == "hotfix" and h.born and p.enabled("hotfix-size"):
            found += _hotfix_size(h)
        if h.kind == "task" and p.enabled("task-scope"):
            found += [v._replace(commit="") for v in task_scope.check(draft, h.ref, h.branch, p)]
        if h.kind != "debug" and p.enabled("debug-leak"):
            for change in staged:
                found += debug_leak.check_path(change, h.ref, "", h.branch, p)
        if merging:  # a merge with conflicts skips pre-merge-commit: judge it here
            found += judge_merge_heads(h, staged)
    if only in (None, "task-config") and p.enabled("task-config"):
        found += _task_configs(h, staged)
    if only in (None, "large-files") and p.enabled("large-file"):
        found += _large_files(h, staged)
    return found


def _hotfix_size(h: Here) -> list[Violation]:
    """hotfix-size as the server will count it once this commit is pushed: the lines the branch, with
    the staged change, changes against where it started (the merge base with the remote's main and
    dev; the smaller count). Not judged when the remote's main and dev are not here."""
    from policy.rules import hotfix_size

    p = h.policy
    counted = []
    for kind in ("main", "dev"):
        if not p.has_kind(kind) or "{" in p.pattern(kind):
            continue
        base = f"refs/remotes/{REMOTE}/{p.pattern(kind)}"
        out = h.git.try_run("diff", "--cached", "--numstat", "-z", "--text", "--no-renames", "--no-ext-diff",
                            "--no-textconv", "--merge-base", base, "--")  # fmt: skip
        if out is None:
            continue
        fields = (token.split(b"\t") for token in out.split(b"\0"))
        counted.append(sum(int(f[0]) + int(f[1]) for f in fields if len(f) >= 2 and f[0].isdigit() and f[1].isdigit()))
    if not counted:
        return []
    return [v._replace(commit="") for v in hotfix_size.check(h.ref, h.branch or "", "", min(counted), p)]


def _version_bump(h: Here, draft: Commit) -> list[Violation]:
    from policy.rules import version_bump

    cfg = h.policy.main_config
    blobs = h.objects.read([f"HEAD:{cfg}", draft.changes[0].blob])
    return [
        v._replace(commit="")
        for v in version_bump.check(draft, h.ref, blobs[f"HEAD:{cfg}"], blobs[draft.changes[0].blob], h.policy)
    ]


def _task_configs(h: Here, staged: list[Change]) -> list[Violation]:
    from policy.rules import task_config

    configs = [c for c in staged if not c.deleted and h.policy.is_task_config(c.path)]
    if not configs:
        return []
    blobs = h.objects.read(c.blob for c in configs)
    found: list[Violation] = []
    for change in configs:
        content = blobs.get(change.blob)
        if content is not None:
            found += task_config.check(content, change.path, h.ref, "", h.policy)
    return found


def _large_files(h: Here, staged: list[Change]) -> list[Violation]:
    from policy.rules import large_file

    blobs = [c for c in staged if large_file.is_blob(c)]
    if not blobs:
        return []
    sizes = h.objects.sizes(c.blob for c in blobs)
    pointers = h.objects.read(c.blob for c in blobs if large_file.is_pointer_path(c.path))
    return large_file.staged(blobs, sizes, pointers, h.ref, h.policy)


# --------------------------------------------------------------------------- merges


def merge_heads(h: Here) -> list[str]:
    """The commits being merged: MERGE_HEAD once git has written it (commit-msg, or pre-commit
    after a conflicted merge); before that, in pre-merge-commit, git exports GITHEAD_<sha>=<name>
    for each merged head."""
    try:
        with open(h.file("MERGE_HEAD"), encoding="ascii") as handle:
            return [line.strip() for line in handle if line.strip()]
    except OSError:
        return sorted(key[len("GITHEAD_") :] for key in os.environ if _is_githead(key))


def _is_githead(key: str) -> bool:
    sha = key[len("GITHEAD_") :]
    return key.startswith("GITHEAD_") and len(sha) in (40, 64) and all(c in "0123456789abcdef" for c in sha)


def branches_containing(h: Here, sha: str) -> list[str]:
    """Local and remote-tracking branches (by branch name) that contain `sha`."""
    out = h.git.run("for-each-ref", "--contains", sha, "--format=%(refname)", "refs/heads/", "refs/remotes/")
    names = set()
    for ref in decode(out).splitlines():
        if ref.startswith("refs/heads/"):
            names.add(ref[len("refs/heads/") :])
        elif ref.startswith("refs/remotes/"):
            name = ref[len("refs/remotes/") :].split("/", 1)[-1]
            if name != "HEAD":
                names.add(name)
    names.discard(h.branch or "")
    return sorted(names)


def judge_merge_heads(h: Here, staged: Optional[list[Change]] = None) -> list[Violation]:
    """merge-source and debug-leak for the merge in progress, before the merge commit exists."""
    from policy.rules import debug_leak, merge_source

    p = h.policy
    found: list[Violation] = []
    accepted = p.accepts(h.kind)
    for sha in merge_heads(h):
        names = branches_containing(h, sha)
        kinds = {p.kind_of(n) for n in names} - {None}
        desc = ", ".join(names[:3]) if names else "no branch of this repository"
        if kinds & set(accepted):
            continue
        if kinds and kinds <= {"debug"} and h.kind != "debug":
            if p.enabled("debug-leak"):
                found += debug_leak.check_merge(h.ref, "", sha, desc, h.branch or "HEAD")
        elif p.enabled("merge-source"):
            found += merge_source.check(h.ref, "", sha, desc, h.branch or "HEAD", accepted, p)
    if h.kind != "debug" and p.enabled("debug-leak"):
        for change in h.git.staged() if staged is None else staged:
            found += debug_leak.check_path(change, h.ref, "", h.branch or "HEAD", p)
    return found


def pre_merge_commit(args: Sequence[str]) -> int:
    opts, _ = _options(args)
    return _guard(lambda: emit(judge_merge_heads(here(opts.get("policy"))), "merge"))


# --------------------------------------------------------------------------- commit-msg


def commit_msg(args: Sequence[str]) -> int:
    opts, rest = _options(args)
    if not rest:
        print("usage: policy hook commit-msg FILE", file=sys.stderr)
        return 2
    return _guard(lambda: _commit_msg(here(opts.get("policy")), rest[0]))


def _commit_msg(h: Here, path: str) -> int:
    from policy.rules import commit_message, squash_merge, task_type

    p = h.policy
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        raw = handle.read()
    message = clean_message(raw)
    merging = h.exists("MERGE_HEAD")
    found: list[Violation] = []
    if h.exists("SQUASH_MSG") and not merging and h.kind == "main" and p.enabled("squash-merge"):
        trailer = p.settings("squash-merge")["trailer"]
        if squash_record(message, trailer) is None:
            source = squash_source(h)
            if source is None:
                found += squash_merge.check_unrecorded(Commit("", "", (), message, ()), h.ref, h.branch or "main")
            else:
                message = add_trailer(message, f"{trailer}: {source[0]} {source[1]}")
                with open(path, "w", encoding="utf-8", errors="surrogateescape") as handle:
                    handle.write(message)
    strict = h.kind in p.settings("commit-message")["strict_branches"]
    if p.enabled("commit-message"):
        message = _fix_message(p, message, path)
        problems, _ = commit_message.judge_message(message, merging, strict, p)
        if problems:
            found += [
                Violation(
                    "commit-message",
                    h.ref,
                    "",
                    "",
                    "; ".join(problems),
                    commit_message.hint_for(message, merging, strict, p, False, h.branch or "HEAD"),
                )
            ]
    draft = Commit("", "", (), message, ())
    if p.enabled("task-type"):
        if commit_type(message) == task_type.task_type(p):
            found += task_type.check_paths(draft, h.ref, h.git.staged(), p)
        if h.kind in ("main", "dev") and (task_source := _task_source(h, message)):
            found += task_type.check_task_merge(draft, h.ref, h.branch or "", task_source, p)
    return emit(found, "commit", pending="this commit")


def _fix_message(p: Policy, message: str, path: str) -> str:
    """With `fix: true`, correct the mechanical slips in the message file and say what changed."""
    from policy.rules import commit_message

    if not p.settings("commit-message")["fix"]:
        return message
    better = commit_message.fixed(message, p)
    if better is None:
        return message
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as handle:
        handle.write(better)
    old, new = subject_line(message), subject_line(better)
    if old != new:
        print(f"branch-policy: commit-message: fixed the subject: {old!r} -> {new!r}", file=sys.stderr)
    if better.count("\n") > message.count("\n"):
        print("branch-policy: commit-message: added the blank line after the subject", file=sys.stderr)
    return better


def _task_source(h: Here, message: str) -> Optional[str]:
    """The task branch this commit merges or squashes, if it is one."""
    p = h.policy
    record = squash_record(message, p.settings("squash-merge")["trailer"])
    if record and p.kind_of(record.branch) == "task":
        return record.branch
    for sha in merge_heads(h):
        names = branches_containing(h, sha)
        kinds = {p.kind_of(n) for n in names}
        if "task" in kinds and not kinds & {"dev", "feature", "hotfix"}:
            return next(n for n in names if p.kind_of(n) == "task")
    return None


def squash_source(h: Here) -> Optional[tuple[str, str]]:
    """(branch, commit) that `git merge --squash` took: the first commit SQUASH_MSG lists is the
    source's tip; the branch is a ref pointing there (the server's view first), preferring a kind
    main accepts."""
    try:
        with open(h.file("SQUASH_MSG"), encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    tip = next((line.split()[1] for line in lines if line.startswith("commit ") and len(line.split()) >= 2), None)
    tip = h.git.resolve(tip) if tip else None
    if tip is None:
        return None
    out = decode(
        h.git.run("for-each-ref", "--points-at", tip, "--format=%(refname)", f"refs/remotes/{REMOTE}/", "refs/heads/")
    )
    names = [
        r[len(f"refs/remotes/{REMOTE}/") :] if r.startswith("refs/remotes/") else r[len("refs/heads/") :]
        for r in out.splitlines()
    ]
    names = [n for n in names if n not in ("HEAD", h.branch)]
    if not names:
        names = branches_containing(h, tip)
    accepted = h.policy.accepts(h.kind)
    names.sort(key=lambda n: (h.policy.kind_of(n) not in accepted, n))
    return (names[0], tip) if names else None


# --------------------------------------------------------------------------- pre-push


def pre_push(args: Sequence[str]) -> int:
    opts, rest = _options(args)
    remote = rest[0] if rest else os.environ.get("PRE_COMMIT_REMOTE_NAME", REMOTE)
    stdin = sys.stdin
    raw = b"" if stdin is None or stdin.isatty() else stdin.buffer.read()
    lines = raw.decode("utf-8", "surrogateescape").split("\n")
    return _guard(lambda: _pre_push(remote, lines, opts.get("policy")))


def pushed_updates(lines: Sequence[str]) -> tuple[list[RefUpdate], bool]:
    """git's '<local ref> <local sha> <remote ref> <remote sha>' lines, and whether that is the
    whole push. Under the pre-commit framework, which reads those lines itself and exposes only
    the first ref (PRE_COMMIT_* variables), it is not."""
    updates = []
    for line in lines:
        parts = line.split()
        if len(parts) == 4:
            _, local_sha, remote_ref, remote_sha = parts
            updates.append(RefUpdate(remote_ref, remote_sha, local_sha))
    env = os.environ
    if updates or not (env.get("PRE_COMMIT_REMOTE_BRANCH") and env.get("PRE_COMMIT_TO_REF")):
        return updates, True
    ref, old = env["PRE_COMMIT_REMOTE_BRANCH"], env.get("PRE_COMMIT_FROM_REF") or ZERO
    ref = ref if ref.startswith("refs/") else f"refs/heads/{ref}"
    return [RefUpdate(ref, old, env["PRE_COMMIT_TO_REF"])], False


def _pre_push(remote: str, lines: Sequence[str], policy_file: Optional[str]) -> int:
    from policy.engine import judge
    from policy.loading import load
    from policy.verdict import as_before, clone_state

    git = Git()
    updates, whole = pushed_updates(lines)
    if not updates:
        return 0
    remote_name = remote if git.try_run("config", "--get", f"remote.{remote}.url") else None
    policy = load(git, client_refs(remote_name), explicit=policy_file, worktree=None)
    state = clone_state(git, remote_name)
    known = git.object_info(u.old for u in updates if u.old != ZERO)
    judged = []
    for u in updates:
        if u.old != ZERO and known.get(u.old) is None:
            print(f"branch-policy: {u.ref}: the remote has {u.old[:7]}, which you have not fetched; "
                  "not judged here (git fetch first; the server judges it anyway)", file=sys.stderr)  # fmt: skip
            continue
        judged.append(u)
        state = as_before(state, u.ref, u.old)
    # Seeing one ref of a multi-ref push, local branches may be in the push too: let them prove
    # where merged commits come from (the server, which sees the whole push, stays exact).
    local = {} if whole else {r.name[len("refs/heads/") :]: r.sha for r in git.refs("refs/heads/")}
    found = judge(git, policy, state, judged, maybe_pushed=local)
    if local:
        found += _unpushed_sources(git, remote, judge(git, policy, state, judged, maybe_pushed={}), found, local)
    return emit(found, "push")


def _unpushed_sources(
    git: Git, remote: str, strict: Sequence[Violation], found: Sequence[Violation], local: dict[str, str]
) -> list[Violation]:
    """Under the pre-commit framework the hook sees only the first ref of a push. A merge whose source
    only a local branch that the remote lacks proves would pass here and be refused by the server,
    unless that branch is in the push: refused here too, naming the push that carries it, the branch
    in a push of its own first: git lists the refs the remote has before new ones, so in
    `git push origin feature-x dev` this hook sees dev, and cannot tell whether feature-x is in the push."""
    seen = {v.commit for v in found if v.rule == "merge-source"}
    on_remote = {r.name.split("/", 3)[-1] for r in git.refs(f"refs/remotes/{remote}/")}
    extra = []
    for v in strict:
        if v.rule != "merge-source" or v.commit in seen or not v.message.startswith("merge brings "):
            continue
        sha = v.message[len("merge brings ") :].split(",", 1)[0]
        out = decode(git.run("for-each-ref", "--contains", sha, "--format=%(refname:short)", "refs/heads/"))
        target = v.ref[len("refs/heads/") :] if v.ref.startswith("refs/heads/") else v.ref
        names = [n for n in out.split() if n in local and n not in on_remote and n != target]
        if names:
            extra.append(
                v._replace(
                    message=f"merge brings {sha}, which only your local branch {names[0]} has ({remote} does not)",
                    hint=(
                        f"push {names[0]} first, in a push of its own (under pre-commit this hook sees one ref "
                        f"of a push), `git push {remote} {names[0]} && git push {remote} {target}`"
                    ),
                )
            )
    return extra
