"""The README's tables name what the code has: every rule id in the registry's order, every
pre-commit hook id of .pre-commit-hooks.yaml, every command of `policy --help`."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from policy.cli import COMMANDS
from policy.config import RULE_IDS
from policy.rules import SUMMARIES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def first_column(header: str) -> list[str]:
    """The `code` names in the first column of the table whose header row starts with `header`."""
    start = README.index(header)
    rows = []
    for line in README[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append(re.match(r"\| `([^`]+)` \|", line).group(1))  # type: ignore[union-attr]
    return rows


def test_rule_table_lists_every_rule_in_order() -> None:
    assert first_column("| id | rule | example refusal |") == list(RULE_IDS)
    assert list(SUMMARIES) == list(RULE_IDS)


def test_hook_table_lists_every_pre_commit_hook() -> None:
    hooks = [hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())]
    assert first_column("| hook id | stage | checks |") == hooks
    example = re.search(r"default_install_hook_types:.*?```", README, re.S)
    assert example and re.findall(r"- id: (\S+)", example.group(0)) == hooks


def test_every_command_is_shown_in_the_readme() -> None:
    missing = [name for name in COMMANDS if not re.search(rf"`policy {name}\b", README)]
    assert not missing, f"commands the README never shows: {missing}"
