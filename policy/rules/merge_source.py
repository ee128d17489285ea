"""merge-source: a branch accepts merges only from the kinds its policy lists. The source is proven
from refs (the merged commit is on a branch of that kind), never from the message text."""

from __future__ import annotations

from policy.model import Violation
from policy.rules._base import kinds_text, violation

ID = "merge-source"


def check(ref: str, merge: str, source: str, source_desc: str, target: str, accepted: list[str]) -> list[Violation]:
    """`source_desc`: where the merged commit was found ("feature-x", "a feature branch", "no branch")."""
    hint = (
        f"{target} accepts merges from {kinds_text(accepted)} branches; push the source branch first "
        "(or in the same push) so the server can see where the merged commit comes from"
        if accepted
        else f"{target} accepts no merges: rebase onto it, or start a new branch"
    )
    return [
        violation(
            ID,
            f"merge brings {source[:7]}, which is on {source_desc}; {target} accepts {kinds_text(accepted)}",
            hint,
            ref=ref,
            commit=merge,
        )
    ]
