"""One error root, one guard: a problem the user can fix is one line and its exit status; a bug is
one line naming the log that holds its traceback, and never lets a hook pass."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import policy
from policy import cli
from policy.ci import UsageError
from policy.commands import hook
from policy.errors import CANNOT_JUDGE, BranchPolicyError
from policy.gitio import GitError

PACKAGE = Path(policy.__file__).parent
# Engine control flow, never shown as such: carries the violations found before a failure.
INTERNAL = {"Incomplete"}


def test_every_error_of_ours_has_one_root() -> None:
    """Each exception class defined in policy/ derives from BranchPolicyError (through its bases
    as written), so the one guard speaks for all of them."""
    roots = {"BranchPolicyError"}
    defined: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                defined[node.name] = [b.id if isinstance(b, ast.Name) else ast.unparse(b) for b in node.bases]
    errors = {name for name, bases in defined.items() if name.endswith(("Error", "Exception")) or "Exception" in bases}
    changed = True
    while changed:
        changed = False
        for name, bases in defined.items():
            if name not in roots and roots & set(bases):
                roots.add(name)
                changed = True
    assert errors - {"BranchPolicyError"}, "no error classes found: the scan is broken"
    stray = (
        {name for name, bases in defined.items() if "Exception" in bases or "ValueError" in bases} - roots - INTERNAL
    )
    assert not stray, f"exception classes outside the one root: {sorted(stray)}"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "branch-policy" / "error.log"


def test_a_bug_in_a_client_hook_refuses_with_one_line(
    cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(argv: list[str]) -> int:
        raise RuntimeError("the rule's bug")

    monkeypatch.setitem(hook.HOOKS, "commit-msg", broken)
    assert cli.main(["hook", "commit-msg", "MSG"]) == CANNOT_JUDGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "internal error (RuntimeError)" in err and str(cache) in err
    log = cache.read_text()
    assert "Traceback" in log and "the rule's bug" in log and "in broken" in log


def test_a_bug_without_a_writable_log_still_says_what(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))  # a file: no directory can be made in it

    def broken(argv: list[str]) -> int:
        raise KeyError("cfg")

    monkeypatch.setitem(hook.HOOKS, "pre-commit", broken)
    assert cli.main(["hook", "pre-commit"]) == CANNOT_JUDGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "KeyError: 'cfg'" in err, err


def test_a_fixable_error_from_inside_a_click_command_is_one_line(
    cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import policy.commands.rules as rules_command

    def broken(*args: object, **kwargs: object) -> None:
        raise UsageError("main's policy cannot be found")

    monkeypatch.setattr(rules_command, "load", broken)
    status = cli.main(["rules"])
    err = capsys.readouterr().err
    assert status == CANNOT_JUDGE and err == "branch-policy: main's policy cannot be found\n", err
    assert not cache.exists()  # a problem the user can fix is not a bug: nothing logged


def test_the_script_itself_prints_no_traceback(tmp_path: Path) -> None:
    """Through the real `python -m policy` entry (os._exit after flushing): a commit-msg hook given
    a message file that is a directory is a bug-free refusal or a logged bug, never a traceback."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    result = subprocess.run(
        [sys.executable, "-m", "policy", "hook", "commit-msg", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and result.stderr.count("\n") <= 2, result.stderr


def test_root_is_the_exit_status() -> None:
    assert issubclass(GitError, BranchPolicyError) and GitError("x").code == CANNOT_JUDGE


def test_policy_hook_without_a_known_hook_lists_them(tmp_path: Path) -> None:
    """`policy hook`, alone or with a name it has not, says what there is (click's help, written once
    in policy.commands.hookcli) and exits 2; the hooks themselves never build click."""
    for args in ([], ["bogus"]):
        done = subprocess.run([sys.executable, "-m", "policy", "hook", *args], cwd=tmp_path, capture_output=True,
                              text=True, timeout=60)  # fmt: skip
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr and "policy hook" in done.stdout + done.stderr
    listed = subprocess.run([sys.executable, "-m", "policy", "hook", "--help"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60).stdout  # fmt: skip
    assert all(name in listed for name in hook.HOOKS), listed
    assert hook.dispatch(["bogus"]) == 2
