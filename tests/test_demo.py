"""`policy demo`, the README's "run it" command: the seed's flow is accepted by a real server and
each forbidden move is refused with its rule id."""

from __future__ import annotations

from pathlib import Path

from conftest import policy_cmd, run

EXPECTED = ("main-direct-commit", "task-scope", "debug-leak", "merge-source", "commit-message", "large-file",
            "squash-merge", "protected-ref", "branch-name")  # fmt: skip


def test_demo(tmp_path: Path) -> None:
    result = run(policy_cmd("demo", "--keep", str(tmp_path / "demo")), tmp_path)
    assert result.ok, result.out
    lines = result.out.splitlines()
    assert sum(line.startswith("  accepted") for line in lines) == 12
    refused = [line for line in lines if line.startswith("  refused")]
    assert len(refused) == len(EXPECTED)
    shown = {line.split()[1] for line in lines if line.strip().startswith("server:")}
    assert set(EXPECTED) <= shown
    assert (tmp_path / "demo" / "server.git" / "hooks" / "pre-receive").exists()
