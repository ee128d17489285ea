"""`policy hook ...`: the git hook entry points.

This module is on the hot path (every commit, every push), so it imports neither click nor
GitPython; `policy.cli` dispatches `policy hook ...` here without building the click app.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO, Callable, Optional, TextIO

from policy.model import RefUpdate

if TYPE_CHECKING:
    from policy.config import Policy
    from policy.gitio import Git

USAGE = """usage: policy hook <name> [args]

  pre-commit                 judge the staged change (policy-branch, -task-config, -large-files)
  commit-msg FILE            judge the message; add the squash record after git merge --squash
  pre-merge-commit           judge the merge being made (merge-source, debug-leak)
  pre-push REMOTE URL        the server's verdict for each ref being pushed (refs on stdin)
  pre-receive                the server hook (git's lines on stdin)
  update REF OLD NEW         the server's update hook, for one ref
"""


def gitlab_prefix() -> str:
    """GitLab shows hook output in its web interface only on lines starting with GL-HOOK-ERR."""
    return "GL-HOOK-ERR: " if os.environ.get("GL_ID") or os.environ.get("GL_PROTOCOL") else ""


def read_updates(stream: BinaryIO) -> list[RefUpdate]:
    """git's '<old> <new> <ref>' lines. Ref names are bytes (not always UTF-8): read them as such
    and keep any byte with surrogateescape, whatever the locale says stdin is."""
    updates = []
    for line in stream.read().decode("utf-8", "surrogateescape").split("\n"):
        if line.strip():
            old, new, ref = line.split(" ", 2)
            updates.append(RefUpdate(ref, old, new))
    return updates


def server_verdict(updates: Sequence[RefUpdate], out: TextIO = sys.stderr) -> int:
    """Judge a push on the server. Fails closed: a policy or internal error refuses the push."""
    from policy import report
    from policy.config import PolicyError
    from policy.engine import judge
    from policy.gitio import Git
    from policy.loading import load, server_policy_file, server_refs
    from policy.verdict import server_state, time_budget

    prefix = gitlab_prefix()

    def say(line: str) -> None:
        print(f"{prefix}{line}", file=out)

    git = Git()
    try:
        policy = load(git, server_refs(git), explicit=server_policy_file(git))
    except PolicyError as exc:
        say(f"branch-policy: {exc}")
        say("branch-policy: push refused: the policy file is malformed and the server fails closed "
            "(an admin can name a good one: git config branchpolicy.file /path/to/policy.yaml)")  # fmt: skip
        return 2
    try:
        with time_budget(policy.time_budget):
            found = judge(git, policy, server_state(git), updates)
    except Exception as exc:  # fail closed unless the policy says otherwise
        if policy.on_error_allow:
            say(f"branch-policy: internal error, push allowed (on_error: allow): {type(exc).__name__}: {exc}")
            return 0
        say(f"branch-policy: internal error, push refused (fail closed): {type(exc).__name__}: {exc}")
        return 2
    _say_policy_changes(git, policy, updates, server_refs(git)[0], say)
    if not found:
        return 0
    for line in report.text_lines(found, prefix):
        print(line, file=out)
    say("branch-policy: push refused; each line names the rule, the commit, where, and how to fix it")
    return 1


def _say_policy_changes(git: Git, policy: Policy, updates: Sequence[RefUpdate], main_ref: str,
                        say: Callable[[str], None]) -> None:  # fmt: skip
    """A push that changes main's policy file says what it loosens (accepted: the team owns its policy)."""
    from policy.config import POLICY_FILE, Policy, PolicyError, loosened, parse_policy_bytes

    for u in updates:
        if u.ref != main_ref or u.deleted:
            continue
        spec = f"{u.new}:{POLICY_FILE}"
        content = git.read([spec]).get(spec)
        try:
            new = Policy.defaults() if content is None else parse_policy_bytes(content, f"main:{POLICY_FILE}")
        except PolicyError:
            return  # refused by the policy-file check
        changes = loosened(policy, new)
        if changes:
            where = "" if policy.source.startswith("main:") or policy.source == "built-in defaults" else (
                f" (this server judges with {policy.source}, which the push does not change)"
            )  # fmt: skip
            say(f"branch-policy: this push changes main's policy{where}; it loosens: {'; '.join(changes)}")


def pre_receive(args: Sequence[str]) -> int:
    return server_verdict(read_updates(sys.stdin.buffer))


def update(args: Sequence[str]) -> int:
    if len(args) != 3:
        print("usage: policy hook update REF OLD NEW", file=sys.stderr)
        return 2
    ref, old, new = args
    return server_verdict([RefUpdate(ref, old, new)])


def _client(name: str) -> Callable[[Sequence[str]], int]:
    def run(args: Sequence[str]) -> int:
        from policy import client

        return int(getattr(client, name)(args))

    return run


HOOKS: dict[str, Callable[[Sequence[str]], int]] = {
    "pre-receive": pre_receive,
    "update": update,
    "pre-commit": _client("pre_commit"),
    "commit-msg": _client("commit_msg"),
    "pre-merge-commit": _client("pre_merge_commit"),
    "pre-push": _client("pre_push"),
}


def dispatch(argv: Sequence[str]) -> int:
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in HOOKS:
        print(USAGE, file=sys.stderr if argv and argv[0] not in ("-h", "--help") else sys.stdout)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    return HOOKS[argv[0]](list(argv[1:]))


def main(argv: Optional[Sequence[str]] = None) -> int:
    return dispatch(list(sys.argv[1:] if argv is None else argv))
