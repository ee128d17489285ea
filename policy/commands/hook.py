"""`policy hook ...`: the git hook entry points.

This module is on the hot path (every commit, every push), so it imports neither click nor
GitPython; `policy.cli` dispatches `policy hook ...` here without building the click app.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO, Callable, Optional, TextIO

from policy.errors import BranchPolicyError
from policy.model import RefUpdate

if TYPE_CHECKING:
    from policy.config import Policy
    from policy.gitio import Git


def gitlab_prefix() -> str:
    """GitLab shows hook output in its web interface only on lines starting with GL-HOOK-ERR."""
    return "GL-HOOK-ERR: " if os.environ.get("GL_ID") or os.environ.get("GL_PROTOCOL") else ""


class BadInput(BranchPolicyError):
    """What git wrote on the hook's stdin is not '<old> <new> <ref>' lines."""


_HEX = frozenset("0123456789abcdef")


def read_updates(stream: BinaryIO) -> list[RefUpdate]:
    """git's '<old> <new> <ref>' lines. Ref names are bytes (not always UTF-8): read them as such
    and keep any byte with surrogateescape, whatever the locale says stdin is. Anything else
    raises BadInput naming the first line that is not such a line."""
    updates = []
    for number, line in enumerate(stream.read().decode("utf-8", "surrogateescape").split("\n"), 1):
        if not line.strip():
            continue
        fields = line.split(" ", 2)
        if len(fields) != 3 or not all(_is_oid(f) for f in fields[:2]) or not fields[2].startswith("refs/"):
            from policy.report import escape

            shown = escape(line[:80]) + ("..." if len(line) > 80 else "")
            raise BadInput(f"line {number} of the hook's input is not '<old> <new> <ref>': {shown}")
        updates.append(RefUpdate(fields[2], fields[0], fields[1]))
    return updates


def _is_oid(text: str) -> bool:
    return len(text) in (40, 64) and _HEX.issuperset(text)


PER_REF_NOTE = (
    "branch-policy: note: this server runs the per-ref update hook, which judges each ref alone: the other refs "
    "of this push that passed on their own were accepted. A merged branch cannot come 'in the same push' here: "
    "push it first, then this ref (or have the admin install the pre-receive hook: policy install --server)"
)


def server_verdict(updates: Sequence[RefUpdate], out: TextIO = sys.stderr, per_ref: bool = False) -> int:
    """Judge a push on the server. Fails closed: a policy or internal error refuses the push;
    under `on_error: allow` only what could not be judged is allowed (violations found before
    the failure still refuse). Every failure is one line, never a traceback."""
    prefix = gitlab_prefix()

    def say(line: str) -> None:
        print(f"{prefix}{line}", file=out)

    try:
        return _server_verdict(updates, say, out, prefix, per_ref)
    except FileNotFoundError as exc:  # git itself (or a file it needs) is not there
        what = exc.filename or "git"
        say(f"branch-policy: cannot run {what}: not found on PATH={os.environ.get('PATH', '')}; "
            "push refused (fail closed)")  # fmt: skip
    except Exception as exc:  # anything else, before the engine ran: never a traceback, never a pass
        say(f"branch-policy: internal error, push refused (fail closed): {type(exc).__name__}: {exc}")
    return 2


def _server_verdict(
    updates: Sequence[RefUpdate], say: Callable[[str], None], out: TextIO, prefix: str, per_ref: bool
) -> int:
    from policy.gitio import Git

    git = Git()
    try:
        return _judged(git, updates, say, out, prefix, per_ref)
    finally:
        git.close()


def _judged(
    git: Git, updates: Sequence[RefUpdate], say: Callable[[str], None], out: TextIO, prefix: str, per_ref: bool
) -> int:
    from policy import report
    from policy.config import PolicyError
    from policy.engine import judge
    from policy.gitio import GitError
    from policy.loading import load_at, server_settings
    from policy.model import Incomplete
    from policy.verdict import server_state, time_budget

    refs = git.refs_later("refs/heads/", "refs/tags/", typed=False)  # beside the settings' reading; ids suffice
    main_refs, policy_file = server_settings(git)
    listed = refs()
    try:  # the policy on main's commit as listed: the same commit the push is judged against
        policy = load_at(git, main_refs, {r.name: r.sha for r in listed}, explicit=policy_file)
    except PolicyError as exc:
        say(f"branch-policy: {exc}")
        say("branch-policy: push refused: the policy file is malformed and the server fails closed "
            "(an admin can name a good one: git config branchpolicy.file /path/to/policy.yaml)")  # fmt: skip
        return 2
    except GitError as exc:  # a damaged repository is never judged with the defaults
        say(f"branch-policy: internal error, push refused (fail closed): cannot read the policy: {exc}")
        return 2
    try:
        with time_budget(policy.time_budget):
            found = judge(git, policy, server_state(git, listed), updates)
    except Exception as exc:  # Incomplete: what the engine found before it failed still refuses
        failure, found_before = (exc.cause, exc.found) if isinstance(exc, Incomplete) else (exc, [])
        cause = f"{type(failure).__name__}: {failure}"
        if not policy.on_error_allow:
            say(f"branch-policy: internal error, push refused (fail closed): {cause}")
            return 2
        if not found_before:
            say(f"branch-policy: internal error, push allowed (on_error: allow): {cause}")
            return 0
        say(f"branch-policy: internal error ({cause}); on_error: allow allows only what could not be judged, "
            "and these violations were found before it:")  # fmt: skip
        found = found_before
    else:
        _say_policy_changes(git, policy, updates, main_refs[0], say)
    if not found:
        return 0
    if per_ref:  # the engine's "(or in the same push)" does not hold when each ref is judged alone
        found = [v._replace(hint=per_ref_hint(v.hint)) for v in found]
    for line in report.text_lines(found, prefix):
        print(line, file=out)
    say("branch-policy: push refused; each line names the rule, the commit, where, and how to fix it")
    if per_ref:
        say(PER_REF_NOTE)
    return 1


def per_ref_hint(hint: str) -> str:
    """A hint for the per-ref update hook: the source goes in a push of its own, first."""
    import re

    hint = re.sub(r": git push origin (\S+) (\S+)$", r": git push origin \1, then git push origin \2", hint)
    return hint.replace(" first (or in the same push)", " first, in a push of its own,")


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
    try:
        updates = read_updates(sys.stdin.buffer)
    except BadInput as exc:
        print(f"{gitlab_prefix()}branch-policy: {exc}; push refused (fail closed)", file=sys.stderr)
        return 2
    return server_verdict(updates)


def update(args: Sequence[str]) -> int:
    if len(args) != 3 or not all(_is_oid(a) for a in args[1:]) or not args[0].startswith("refs/"):
        print(f"{gitlab_prefix()}branch-policy: usage: policy hook update REF OLD NEW (git's update hook "
              "arguments); push refused (fail closed)", file=sys.stderr)  # fmt: skip
        return 2
    ref, old, new = args
    return server_verdict([RefUpdate(ref, old, new)], per_ref=True)


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
    """Run hook argv[0] with the rest. `policy hook` with no hook, another name or --help is
    click's (policy.commands.hookcli: each hook's help is written there, once)."""
    if not argv or argv[0] not in HOOKS:
        print(f"branch-policy: no hook {argv[0] if argv else ''!r}: policy hook --help lists them", file=sys.stderr)
        return 2
    return HOOKS[argv[0]](list(argv[1:]))


def main(argv: Optional[Sequence[str]] = None) -> int:
    return dispatch(list(sys.argv[1:] if argv is None else argv))
