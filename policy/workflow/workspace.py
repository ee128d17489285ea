"""The repository as the workflow commands see it: a work tree with a policy, refs and files.

Read-only queries go through policy.gitio.Git (batched, parsed with fixed settings); the steps
that change the repository are run by policy.workflow.steps, exactly as they are printed.
"""

from __future__ import annotations

import os
from typing import Optional

from policy.config import Policy, PolicyError
from policy.engine import RepoState
from policy.gitio import Git, GitError, decode
from policy.loading import client_refs, load
from policy.naming import Semver
from policy.rules.version_bump import read_version
from policy.verdict import clone_state, default_remote
from policy.workflow.errors import WorkflowError

# Files whose presence means git is in the middle of something the user must finish first.
_IN_PROGRESS = {
    "MERGE_HEAD": "a merge",
    "CHERRY_PICK_HEAD": "a cherry-pick",
    "REVERT_HEAD": "a revert",
    "rebase-merge": "a rebase",
    "rebase-apply": "a rebase or git am",
    "BISECT_LOG": "a bisect",
}


class Workspace:
    """One work tree: its top directory, the policy that judges it, and its remote."""

    def __init__(self, cwd: Optional[str] = None) -> None:
        probe = Git(cwd)
        try:
            if probe.is_bare():
                raise WorkflowError("this is a bare repository: run the workflow commands in a clone with a work tree")
            top = decode(probe.run("rev-parse", "--show-toplevel")).strip()
        except GitError:
            raise WorkflowError("not in a git repository (run it inside the clone of your project)") from None
        self.top = top
        self.git = Git(top)
        self.remote = default_remote(self.git)
        try:
            self.policy: Policy = load(self.git, client_refs(self.remote), worktree=top)
        except PolicyError as exc:
            raise WorkflowError(str(exc)) from None

    # -- refs ---------------------------------------------------------------------------------
    def current_branch(self) -> Optional[str]:
        out = self.git.try_run("symbolic-ref", "-q", "--short", "HEAD")
        return decode(out).strip() if out else None

    def sha(self, rev: str) -> Optional[str]:
        """The commit `rev` names, or None."""
        out = self.git.try_run("rev-parse", "--verify", "--quiet", "--end-of-options", rev + "^{commit}")
        return decode(out).strip() if out else None

    def local(self, branch: str) -> Optional[str]:
        return self.sha(f"refs/heads/{branch}")

    def remote_tip(self, branch: str) -> Optional[str]:
        return self.sha(f"refs/remotes/{self.remote}/{branch}") if self.remote else None

    def ref_exists(self, ref: str) -> bool:
        return self.git.resolve(ref) is not None

    def remote_branches_named(self, branch: str) -> list[str]:
        """Remote-tracking refs, of any remote, for `branch` (a name a new branch must not take)."""
        return [r.name for r in self.git.refs("refs/remotes/") if r.name.split("/", 3)[-1] == branch]

    def state(self) -> RepoState:
        """The refs as the server has them (remote-tracking refs; local ones without a remote)."""
        return clone_state(self.git, self.remote)

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """Exactly (merge-base), whatever the commit dates; False when there is no descendant."""
        return bool(descendant) and self.git.is_ancestor(ancestor, descendant)

    # -- branch kinds ---------------------------------------------------------------------------
    def branch_of_kind(self, kind: str) -> Optional[str]:
        """The name of a long-lived branch kind (main, dev): its pattern when it is a plain name,
        else the one local branch of that kind."""
        if not self.policy.has_kind(kind):
            return None
        pattern = self.policy.pattern(kind)
        if "{" not in pattern:
            return pattern
        found = [r.name[len("refs/heads/") :] for r in self.git.refs("refs/heads/")]
        named = [name for name in found if self.policy.kind_of(name) == kind]
        return named[0] if len(named) == 1 else None

    def require_branch_of_kind(self, kind: str) -> str:
        name = self.branch_of_kind(kind)
        if name is None or self.local(name) is None:
            raise WorkflowError(f"there is no local {kind} branch here (git fetch && git branch {kind} origin/{kind})")
        return name

    # -- work tree ------------------------------------------------------------------------------
    def in_progress(self) -> Optional[str]:
        """What git is in the middle of (a merge, a rebase, ...), if anything."""
        git_dir = self.git.git_dir()
        for name, what in _IN_PROGRESS.items():
            if os.path.exists(os.path.join(git_dir, name)):
                return what
        return None

    def changed_paths(self) -> list[str]:
        """Tracked files with staged or unstaged changes (untracked files are never touched by the
        commands: git refuses to overwrite them, and the commands never delete them)."""
        out = self.git.run("status", "--porcelain=v1", "-z", "--untracked-files=no", "--ignore-submodules=none")
        return [decode(entry[3:]) for entry in out.split(b"\0") if len(entry) > 3]

    def require_clean(self, action: str) -> None:
        """Refuse up front rather than carry changes across branches or lose them in a rollback."""
        busy = self.in_progress()
        if busy:
            raise WorkflowError(f"git is in the middle of {busy}: finish or abort it before {action}")
        changed = self.changed_paths()
        if changed:
            more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
            raise WorkflowError(
                f"the work tree has uncommitted changes ({', '.join(changed[:3])}{more}): "
                f"commit or stash them (git stash) before {action}"
            )

    # -- contents -------------------------------------------------------------------------------
    def read(self, *specs: str) -> dict[str, Optional[bytes]]:
        """Contents of `rev:path` specs, all in one git process."""
        return self.git.read(specs)

    def version_at(self, rev: str) -> tuple[Semver, bytes]:
        """VERSION of the main config at `rev`, and the config's bytes."""
        path = self.policy.main_config
        text = self.read(f"{rev}:{path}")[f"{rev}:{path}"]
        if text is None:
            raise WorkflowError(f"{rev} has no {path}: the branch model needs it (with {self.policy.version_key})")
        version = read_version(text, self.policy.version_key)
        if version is None:
            raise WorkflowError(f"{path} on {rev} has no readable {self.policy.version_key} (expected X.Y.Z)")
        return version, text
