"""Patterns a user writes (branch kinds, placeholders, extra branch names, commit scopes) are RE2:
linear time whatever the input, so a policy cannot make the hook backtrack for minutes, and the
dialect of GitHub's and GitLab's push rules, so `policy export` hands them over as they are."""

from __future__ import annotations

from typing import Any

import re2

from policy.errors import BranchPolicyError

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # the error is ours to word, on one line; RE2 would also log to stderr

Pattern = Any  # re2._Regexp: match(), fullmatch(), search(), groupdict() on its matches


class PatternError(BranchPolicyError, ValueError):
    """A pattern RE2 does not accept (its message says why)."""


_COMPILED: dict[str, Pattern] = {}  # pattern -> its RE2 (immutable): a warm judge's worker compiles each once


def compile_user(pattern: str) -> Pattern:
    found = _COMPILED.get(pattern)
    if found is not None:
        return found
    try:
        compiled = re2.compile(pattern, options=_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        raise PatternError(reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)) from None
    if len(_COMPILED) >= 256:  # a bound, whatever the policies a process meets
        _COMPILED.clear()
    _COMPILED[pattern] = compiled
    return compiled


def escape(text: str) -> str:
    return str(re2.escape(text))
