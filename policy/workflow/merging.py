"""`policy merge SOURCE`: merge an allowed branch into the checked-out one (main, dev, ...).

--no-ff (default) makes a merge commit with a conventional message. --squash makes one commit
whose message carries the squash record (`Squash-Merge: <branch> <commit>`); the server recomputes
`git merge-tree --write-tree <parent> <commit>` and compares trees, so a squash is made only when
that merge is clean, and its tree is checked against it before the command says it is done.
"""

from __future__ import annotations

from typing import Optional

from policy.commitmsg import add_trailer, commit_type, squash_record
from policy.config import Policy
from policy.gitio import GitError, decode
from policy.rules import debug_leak, merge_source
from policy.rules.task_type import task_type
from policy.workflow.errors import NothingToDo, PolicyRefusal, WorkflowError
from policy.workflow.finish import require_only_tasks
from policy.workflow.messages import check_message, merge_message
from policy.workflow.steps import Check, Plan, git
from policy.workflow.verify import merge_verdict
from policy.workflow.workspace import Workspace


def source_rev(ws: Workspace, source: str) -> tuple[str, str]:
    """(what to give git merge, commit): the local branch, else the remote-tracking one."""
    sha = ws.local(source)
    if sha:
        return source, sha
    remote = ws.remote_tip(source)
    if remote:
        return f"{ws.remote}/{source}", remote
    raise WorkflowError(f"there is no branch {source} here (git fetch, or check the name)")


def refuse_source(ws: Workspace, source: str, source_sha: str, target: str) -> None:
    """merge-source / debug-leak, judged from the branch names before anything happens."""
    policy = ws.policy
    source_kind, target_kind = policy.kind_of(source), policy.kind_of(target)
    accepted = policy.accepts(target_kind)
    ref = f"refs/heads/{target}"
    if source_kind == "debug" and target_kind != "debug":
        found = [
            v._replace(hint=debug_hint(ws, source, source_sha, target))
            for v in debug_leak.check_merge(ref, "", source_sha, f"debug branch {source}", target)
        ]
    elif source_kind not in accepted:
        desc = f"{source} ({f'a {source_kind} branch' if source_kind else 'no branch kind'})"
        found = merge_source.check(ref, "", source_sha, desc, target, accepted, policy, made=False)
    else:
        return
    raise PolicyRefusal(f"{target} does not take merges from {source}: nothing was changed", found)


def debug_hint(ws: Workspace, source: str, source_sha: str, target: str) -> str:
    """Nothing was merged; the code the debug branch changed outside tasks/ is what may travel, file
    by file, and committed on the target as a commit of its own."""
    from policy.rules._base import q

    policy = ws.policy
    base = ws.git.run("merge-base", "HEAD", source_sha, ok=(0, 1)).decode().strip()
    out = ws.git.run("diff", "--name-only", "-z", "--no-renames", base, source_sha).decode() if base else ""
    code = [p for p in out.split("\0") if p and not policy.in_tasks(p)]
    if not code:
        return (
            f"debug branches are never merged, and {source} changes nothing outside {policy.tasks_dir}/: "
            "its run stays there"
        )
    paths = " ".join(q(p) for p in code[:20])
    return (
        f"debug branches are never merged; to keep the code fix made on {source}, take its files onto {target} "
        f"and commit them, `git checkout {q(source)} -- {paths}`"
    )


def conflict_hint(ws: Workspace, source: str, target: str) -> str:
    """How to make `source` merge cleanly: merge the target into it, if the policy allows that."""
    policy = ws.policy
    if policy.kind_of(target) in policy.accepts(policy.kind_of(source)):
        return f"merge {target} into {source} first (git checkout {source} && git merge {target}), then run this again"
    return f"merge it by hand and resolve the conflicts: git merge --no-ff {source}"


def target_kind_is(policy: Policy, branch: str, kind: str) -> bool:
    return policy.kind_of(branch) == kind


def merge_plan(ws: Workspace, source: str, squash: bool, message: Optional[str]) -> Plan:
    policy = ws.policy
    target = ws.current_branch()
    if target is None:
        raise WorkflowError("HEAD is detached: check out the branch to merge into (git checkout main)")
    if source == target:
        raise WorkflowError(f"{target} cannot be merged into itself")
    rev, source_sha = source_rev(ws, source)
    target_sha = ws.local(target) or ""
    refuse_source(ws, source, source_sha, target)
    ws.require_clean(f"merging {source}")
    if ws.is_ancestor(source_sha, target_sha):
        raise NothingToDo(f"{source} is already merged into {target}: nothing to do")
    source_kind = policy.kind_of(source)
    text = message or merge_message(policy, source, source_kind, target)
    check_message(policy, text, target=target, is_merge=not squash, source=source, source_kind=source_kind)
    tree, clean = ws.git.merge_tree(target_sha, source_sha)
    if not clean or tree is None:
        raise WorkflowError(f"{source} does not merge cleanly into {target}: {conflict_hint(ws, source, target)}")

    if source_kind == "task":  # judged as a pull request first, as policy task finish does
        found = merge_verdict(ws, source, source_sha, target, target_sha)
        if found:
            raise PolicyRefusal(f"{source} cannot be merged into {target}: nothing was changed", found)
    if commit_type(text) == task_type(policy):
        require_only_tasks(ws, source, target, target_sha, tree)
    if squash and tree == ws.git.resolve(f"{target_sha}^{{tree}}"):
        raise NothingToDo(f"{source} brings no change to {target}, so a squash has nothing to commit: nothing to do")
    plan = Plan(touches=[f"refs/heads/{target}"])
    plan.push = [f"refs/heads/{target}"] + ([f"refs/heads/{source}"] if rev == source else [])
    if not squash:
        return plan.add(git("merge", "--no-ff", "-m", text, rev))
    trailer = policy.settings("squash-merge")["trailer"]
    full = add_trailer(text, f"{trailer}: {source} {source_sha}").rstrip("\n")
    if target_kind_is(policy, target, "main") and policy.kind_of(source) == "dev":
        # the squash is a new commit dev lacks: dev must take main back before it moves on, or a
        # later merge meets main's changes (the policy file, VERSION) as add/add conflicts
        plan.notes.append(
            f"remember: {source} takes {target} back before it moves on: policy release does it, or "
            f"`git checkout {source} && policy merge {target}`"
        )
    return plan.add(
        git("merge", "--squash", rev),
        git("commit", "-m", full),
        Check(
            f"the squash's tree is the merge the server recomputes (merge-tree {target} {source})",
            lambda: squash_problem(ws, target_sha, tree, trailer, source, source_sha),
        ),
    )


def squash_problem(ws: Workspace, parent: str, tree: str, trailer: str, source: str, commit: str) -> Optional[str]:
    """What is wrong with the squash commit just made (None: the server will accept its claim)."""
    try:
        fields = decode(ws.git.run("log", "-1", "--format=%P%x00%T%x00%B", "HEAD")).split("\0", 2)
    except GitError as exc:
        return str(exc)
    parents, made_tree, message = fields[0].split(), fields[1], fields[2]
    if parents != [parent]:
        return "the squash commit is not a single commit on top of the branch"
    if made_tree != tree:
        return (
            "git merge --squash gave a different tree than git merge-tree (a merge strategy or "
            "renormalisation setting?); the server would refuse it"
        )
    record = squash_record(message, trailer)
    if record is None or record.branch != source or record.commit != commit:
        return f"the commit message lost its '{trailer}: {source} {commit}' line (a commit-msg hook?)"
    return None
