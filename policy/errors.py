"""One error root and one guard.

Every problem a user can fix is a `BranchPolicyError` (or a subclass: the policy file, git, a
pattern, the CI event, an export, a workflow step) carrying its sentence and its exit status.
`guarded` runs a command: such an error becomes one line and its status; anything else is a bug,
which the user sees as one line naming a log file that holds the whole traceback. A hook's bug
therefore refuses (status 2) instead of passing or printing a traceback.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Callable

REFUSED = 1  # the policy refuses: violations were printed
CANNOT_JUDGE = 2  # bad input, a broken repository or policy, a bug: nothing was judged as passing


class BranchPolicyError(Exception):
    """A problem the user can fix, said in one line; `code` is the exit status."""

    code = CANNOT_JUDGE


def log_path() -> str:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "branch-policy", "error.log")


def _log(exc: BaseException) -> str:
    """Append the traceback to the log; return where it went ("" if it could not be written)."""
    import traceback

    path = log_path()
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a", encoding="utf-8", errors="backslashreplace") as log:
            log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} policy {' '.join(sys.argv[1:])}\n{text}")
    except OSError:
        return ""
    return path


def guarded(run: Callable[[], int]) -> int:
    try:
        return run()
    except BranchPolicyError as exc:
        print(f"branch-policy: {exc}", file=sys.stderr)
        return exc.code
    except Exception as exc:  # a bug: one line here, the whole traceback in the log
        import traceback

        where = _log(exc)
        detail = f"details in {where}" if where else "".join(traceback.format_exception_only(type(exc), exc)).strip()
        print(f"branch-policy: internal error ({type(exc).__name__}), nothing was judged; {detail}", file=sys.stderr)
        return CANNOT_JUDGE
