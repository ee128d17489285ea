"""The caches a process keeps from one policy to the next (a warm judge's worker judges push after
push in one process): each is a pure function of the texts it is keyed by, so a policy that
changes between two pushes is judged by its own patterns, never by an earlier policy's."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Optional

import pytest
from conftest import World, seed
from hypothesis import given, settings
from hypothesis import strategies as st

from policy import loading
from policy.config import Policy, parse_policy_text
from policy.gitio import Git
from policy.loading import load_at, server_settings
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


def _server(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    server = tmp_path / "s.git"
    subprocess.run(["git", "init", "-q", "--bare", str(server)], check=True)
    return server, {**os.environ, "GIT_DIR": "."}  # as git runs a hook: in the repository, GIT_DIR=.


@pytest.fixture
def across_pushes(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process judges push after push, as a warm judge's worker."""
    monkeypatch.setattr(loading, "ACROSS_PUSHES", True)


@pytest.mark.usefixtures("across_pushes")
def test_the_server_settings_are_asked_again_when_any_config_file_changes(tmp_path: Path) -> None:
    server, env = _server(tmp_path)
    user = Path(os.environ["GIT_CONFIG_GLOBAL"])

    def settings() -> tuple[tuple[list[str], Optional[str]], int]:
        git = Git(str(server), env)
        return server_settings(git), git.processes

    assert settings()[0] == (["refs/heads/main", "HEAD"], None)
    assert settings() == ((["refs/heads/main", "HEAD"], None), 0)  # nothing changed: no git process
    subprocess.run(["git", "-C", str(server), "config", "branchpolicy.file", "/srv/a.yaml"], check=True)
    assert settings() == ((["refs/heads/main", "HEAD"], "/srv/a.yaml"), 1)  # the repository's config
    user.write_text(user.read_text() + "[branchpolicy]\n\tmainRef = refs/heads/trunk\n")
    assert settings() == ((["refs/heads/trunk", "HEAD"], "/srv/a.yaml"), 1)  # the user's
    assert settings()[1] == 0


@pytest.mark.usefixtures("across_pushes")
def test_settings_behind_an_include_are_always_asked(tmp_path: Path) -> None:
    server, env = _server(tmp_path)
    included = tmp_path / "included.cfg"
    included.write_text("[branchpolicy]\n\tfile = /srv/a.yaml\n")
    subprocess.run(["git", "-C", str(server), "config", "include.path", str(included)], check=True)
    for expected in ("/srv/a.yaml", "/srv/b.yaml"):
        included.write_text(f"[branchpolicy]\n\tfile = {expected}\n")
        git = Git(str(server), env)
        assert server_settings(git)[1] == expected and git.processes >= 1


STRICTER = """\
branches:
  hotfix: {pattern: "never-{slug}", merges_from: [main, dev]}
"""


def test_the_policy_on_a_commit_is_read_once_and_by_the_commit_listed(world: World) -> None:
    seed(world)
    server = str(world.server)
    tips = {r.name: r.sha for r in Git(server).refs("refs/heads/")}
    first = Git(server)
    policy = load_at(first, ["refs/heads/main", "HEAD"], tips)
    again = Git(server)
    assert load_at(again, ["refs/heads/main", "HEAD"], tips) is policy and again.processes == 0
    # main moves on to a stricter policy: the listing that names the new commit gets it; one taken
    # before the move still gets the policy of the commit it named
    git = Git(server)
    blob = git.run("hash-object", "-w", "--stdin", input=STRICTER.encode()).decode().strip()
    tree = git.run("mktree", input=f"100644 blob {blob}\t.branch-policy.yaml\n".encode()).decode().strip()
    commit = git.run("commit-tree", tree, "-p", tips["refs/heads/main"], "-m", "chore: no hotfixes").decode().strip()
    git.run("update-ref", "refs/heads/main", commit)
    moved = {r.name: r.sha for r in Git(server).refs("refs/heads/")}
    assert load_at(Git(server), ["refs/heads/main", "HEAD"], moved).kind_of("hotfix-x") is None
    assert load_at(Git(server), ["refs/heads/main", "HEAD"], tips).kind_of("hotfix-x") == "hotfix"


NAMES = st.binary(min_size=1, max_size=6).filter(lambda b: b"=" not in b and b"\0" not in b)
VALUES = st.binary(max_size=6).filter(lambda b: b"\0" not in b)


@settings(max_examples=60, deadline=None)
@given(before=st.dictionaries(NAMES, VALUES, max_size=8), after=st.dictionaries(NAMES, VALUES, max_size=8))
def test_a_worker_sets_each_push_environment_exactly(before: dict[bytes, bytes], after: dict[bytes, bytes]) -> None:
    """A worker swaps its environment for each push's by changing only what differs: the process
    (os.environb, os.environ, and what a git it starts sees) ends with exactly the new one."""
    from policy.warm import set_environment

    saved = dict(os.environb)
    try:
        set_environment(before)
        assert dict(os.environb) == before
        set_environment(after)
        assert dict(os.environb) == after and dict(os.environ) == {
            os.fsdecode(k): os.fsdecode(v) for k, v in after.items()
        }
        seen = subprocess.run(["/usr/bin/env", "-0"], capture_output=True, check=True).stdout  # the real environ
        real = dict(tuple(line.split(b"=", 1)) for line in seen.split(b"\0") if line)  # type: ignore[misc]
        assert {k: real.get(k) for k in [*before, *after]} == {k: after.get(k) for k in [*before, *after]}
    finally:
        set_environment(saved)
