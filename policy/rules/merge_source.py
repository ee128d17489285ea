"""merge-source: a branch accepts merges only from the kinds its policy lists. The source is proven
from refs (the merged commit is on a branch of that kind), never from the message text."""

from __future__ import annotations

from typing import Optional

from policy.config import Policy
from policy.model import Violation
from policy.rules._base import kinds_text, q, violation

ID = "merge-source"


def check(
    ref: str, merge: str, source: str, source_desc: str, target: str, accepted: list[str],
    policy: Optional[Policy] = None, made: bool = True,
) -> list[Violation]:  # fmt: skip
    """`source_desc`: where the merged commit was found ("feature-x", "a feature branch", "no branch")."""
    hint = fix(merge, source_desc, target, accepted, policy, made)
    return [
        violation(
            ID,
            f"merge brings {source[:7]}, which is on {source_desc}; {target} accepts {kinds_text(accepted)}",
            hint,
            ref=ref,
            commit=merge,
        )
    ]


def fix(
    merge: str, source_desc: str, target: str, accepted: list[str], policy: Optional[Policy], made: bool = True
) -> str:
    """Undo the merge (`made`: it was made, or is in progress); when the source's kind reaches the
    target through another branch (a feature reaches main through dev), the commands that take it that way."""
    undo = "git merge --abort" if not merge else f"git reset -q --hard {merge[:12]}^"
    name = source_desc.split(", ")[0].split(" (")[0]
    kind = policy.kind_of(name) if policy is not None else None
    via_main = _made_on_main(merge, name, kind, target, policy) if made else None
    if via_main:
        return via_main
    if policy is None or kind is None:
        if not accepted:
            return f"{target} accepts no merges: rebase onto it, or start a new branch"
        return (
            f"{target} accepts merges from {kinds_text(accepted)} branches; push the source branch first (or in the "
            "same push) so the server can see where the merged commit comes from"
        )
    via = next(
        (k for k in accepted if policy.has_kind(k) and "{" not in policy.pattern(k) and kind in policy.accepts(k)), None
    )
    if via is None:
        if not made:
            return f"{target} never takes {kind} branches ({kinds_text(accepted)} only)"
        return f"{target} never takes {kind} branches ({kinds_text(accepted)} only): undo the merge, `{undo}`"
    hop = policy.pattern(via)
    first = f"undo the merge, merge {name} into {hop}" if made else f"merge {name} into {hop}"
    return (
        f"{target} never takes {kind} branches; they reach it through {hop}: {first}, then {hop} into {target}, "
        f"`{undo + ' && ' if made else ''}git checkout -q {hop} && policy merge {q(name)} && "
        f"git checkout -q {target} && policy merge {hop}`, and push them source first, "
        f"`{pushes(name, hop, target)}`"
    )


def _made_on_main(merge: str, name: str, kind: Optional[str], target: str, policy: Optional[Policy]) -> str:
    """A branch started from a main that holds an unpushed merge carries that merge as its own: when
    main takes the source and the target takes main, pushing main with it is the fix."""
    if not merge or policy is None or not policy.has_kind("main") or "{" in policy.pattern("main"):
        return ""
    main = policy.pattern("main")
    target_kind = policy.kind_of(target)
    if target == main or target_kind is None or "main" not in policy.accepts(target_kind):
        return ""
    if kind is None or kind not in policy.accepts("main") or kind in policy.accepts(target_kind):
        return ""  # a source the server cannot place is pushed first: the generic hint says so
    push = pushes(name, main, target)
    return (
        f"{main} takes that merge, {target} only through {main}: if it was made on {main} before {target} "
        f"started from there, push {main} with it, `git merge-base --is-ancestor {merge[:12]} {main} && {push}` "
        f"(otherwise drop the merge from {target})"
    )


def pushes(*branches: str) -> str:
    """One push per branch, sources first: each push's merges are proven by the branches pushed
    before it, also where a pre-push hook sees one ref of a push (pre-commit's)."""
    return " && ".join(f"git push -q origin {q(b)}" for b in branches)
