"""Helpers shared by the rules."""

from __future__ import annotations

from policy.model import Violation


def violation(rule: str, message: str, hint: str, *, ref: str = "", commit: str = "", path: str = "") -> Violation:
    return Violation(rule, ref, commit, path, message, hint)


def kinds_text(kinds: list[str]) -> str:
    return ", ".join(kinds) if kinds else "nothing"
