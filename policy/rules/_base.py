"""Helpers shared by the rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from policy.model import Violation

if TYPE_CHECKING:
    from policy.config import Policy


def violation(rule: str, message: str, hint: str, *, ref: str = "", commit: str = "", path: str = "") -> Violation:
    return Violation(rule, ref, commit, path, message, hint)


def made(sha: str) -> str:
    """The commit's sha, or "" for what is only staged (the all-zero sha of a pre-commit check)."""
    return sha if sha.strip("0") else ""


def kinds_text(kinds: list[str]) -> str:
    return ", ".join(kinds) if kinds else "nothing"


def q(text: str) -> str:
    """A shell word: quoted when it holds anything but the characters of ordinary names."""
    import re

    if text and re.fullmatch(r"[A-Za-z0-9._/@:=+,-]+", text):
        return text
    return "'" + text.replace("'", "'\\''") + "'"


def rewrite(commit: str, fix: str) -> str:
    """The commands that redo `commit` (the newest of its branch's own commits, or with those after it
    folded in) with `fix` applied to its staged content, keeping its message."""
    c = commit[:12]
    return f"git reset --soft {c}^ && {fix} && git commit -q --allow-empty -C {c}"


def run_folder(path: str, tasks_dir: str) -> str:
    """tasks/<run>/ for a path under tasks/<run>/ ('' otherwise)."""
    prefix = tasks_dir + "/"
    if not path.startswith(prefix):
        return ""
    run, slash, _ = path[len(prefix) :].partition("/")
    return f"{prefix}{run}/" if slash else ""


def slug_of(branch: str) -> str:
    """A slug for a branch name that fits no kind: its last words, lower-case (task-lr -> lr)."""
    import re

    words = [w for w in re.split(r"[^a-z0-9]+", branch.lower()) if w]
    kinds = {"task", "debug", "feature", "hotfix", "dev", "main", "fix", "feat"}
    words = [w for w in words if w not in kinds and not w.isdigit()] or ["work"]
    return "-".join(words[-3:])


def code_home(policy: Policy) -> str:
    """Where code changes are committed under this policy: 'dev or a feature branch', or without dev
    'a feature branch or a hotfix branch' (the kinds the policy has, never assumed)."""
    places = [policy.pattern("dev")] if policy.has_kind("dev") and "{" not in policy.pattern("dev") else []
    places += [f"a {k} branch" for k in ("feature", "hotfix") if policy.has_kind(k)][: 2 - len(places)]
    return " or ".join(places) or "a branch that takes code"
