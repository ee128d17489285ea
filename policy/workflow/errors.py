"""How a workflow command stops. Both carry everything the user needs; neither is a traceback."""

from __future__ import annotations

from collections.abc import Sequence

from policy.errors import CANNOT_JUDGE, REFUSED, BranchPolicyError
from policy.model import Violation

USAGE = CANNOT_JUDGE  # the user can fix the input or the repository state and run the command again


class WorkflowError(BranchPolicyError):
    """A one-line, fixable problem: a dirty work tree, a bad slug, a branch that exists, ..."""

    code = USAGE


class PolicyRefusal(BranchPolicyError):
    """The engine found violations; they are printed in the report format (rule id, fix hint)."""

    code = REFUSED

    def __init__(self, what: str, violations: Sequence[Violation]) -> None:
        super().__init__(what)
        self.what = what
        self.violations = list(violations)


class NothingToDo(WorkflowError):
    """The command would change nothing (the branch is already merged): said, and exit 0."""

    code = 0
