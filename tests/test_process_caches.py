"""The caches a process keeps from one policy to the next (a warm judge's worker judges push after
push in one process): each is a pure function of the texts it is keyed by, so a policy that
changes between two pushes is judged by its own patterns, never by an earlier policy's."""

from __future__ import annotations

from policy.config import Policy, parse_policy_text
from policy.patterns import compile_user

RENAMED = """\
branches:
  feature: {pattern: "feat/{slug}", merges_from: [main, dev]}
"""
PLACEHOLDER = """\
placeholders:
  slug: "[A-Z]+"
"""


def test_a_branch_kind_is_that_of_the_policy_asking() -> None:
    names = ["feature-x", "feat/x", "feat/X", "hotfix-y", "task-0.1.0-20261126-1200-run", "random"]
    for _ in range(2):  # and again, once every table is filled: the same answers
        default, renamed, upper = (
            Policy.defaults(),
            parse_policy_text(RENAMED, "renamed.yaml"),
            parse_policy_text(PLACEHOLDER, "placeholder.yaml"),
        )
        assert [default.kind_of(n) for n in names] == ["feature", None, None, "hotfix", "task", None]
        assert [renamed.kind_of(n) for n in names] == [None, "feature", None, "hotfix", "task", None]
        # the same patterns, other placeholders: another table
        assert upper.kind_of("feature-x") is None and upper.kind_of("feature-X") == "feature"
        assert default.kind_of("feature-X") is None


def test_a_compiled_pattern_is_that_of_its_own_text() -> None:
    assert compile_user("a+").fullmatch("aaa") and not compile_user("b+").fullmatch("aaa")
    assert compile_user("a+") is compile_user("a+")
