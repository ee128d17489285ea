"""Hints name the commit they are about by its real sha, whatever digits it starts or ends with;
only the all-zero sha of a staged (not yet made) commit is left out of the recipe."""

from __future__ import annotations

import pytest

from policy.config import parse_policy_text
from policy.model import Change, Commit
from policy.rules import main_direct_commit, task_scope

POLICY = parse_policy_text("", ".branch-policy.yaml")
BLOB = "1" * 40


def commit(sha: str, path: str) -> Commit:
    return Commit(sha, "2" * 40, ("3" * 40,), "fix: x", (Change("A", path, BLOB, "100644"),))


@pytest.mark.parametrize("sha", ["009e470b0a1c3a" + "5" * 26, "9e470b0a1c3a" + "5" * 26 + "00", "0" * 39 + "1"])
def test_real_sha_is_named_whole(sha: str) -> None:
    [on_main] = main_direct_commit.check(commit(sha, "src/model.py"), "refs/heads/main", "main", POLICY)
    assert sha[:12] in on_main.hint
    branch = "task-v1-20260101-0000-run"
    [on_task] = task_scope.check(commit(sha, "src/model.py"), f"refs/heads/{branch}", branch, POLICY)
    assert sha[:7] in on_task.hint


def test_staged_change_names_no_commit() -> None:
    [on_main] = main_direct_commit.check(commit("0" * 40, "src/model.py"), "", "main", POLICY)
    assert "0000000" not in on_main.hint
    branch = "task-v1-20260101-0000-run"
    [on_task] = task_scope.check(commit("0" * 40, "src/model.py"), "", branch, POLICY)
    assert "redo" not in on_task.hint and "0000000" not in on_task.hint
