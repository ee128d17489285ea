"""The GitLab CI template, and every GitLab CI snippet of the README and docs, against GitLab's CI
schema (check-jsonschema's vendored `vendor.gitlab-ci`)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from doc_blocks import yaml_blocks

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "templates" / "branch-policy.gitlab-ci.yml"


def check_jsonschema(*files: Path) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    if not tool:
        pytest.fail("check-jsonschema is not installed: pip install -e '.[test]'")
    return subprocess.run([tool, "--builtin-schema", "vendor.gitlab-ci", *map(str, files)],
                          capture_output=True, text=True)  # fmt: skip


def gitlab_snippets() -> list[tuple[str, str]]:
    """(where, text) of each ```yaml block that is GitLab CI: an `include:`, or jobs with a `script:`."""
    return [
        (where, text)
        for where, text, data in yaml_blocks()
        if isinstance(data, dict)
        and "jobs" not in data
        and ("include" in data or any(isinstance(v, dict) and "script" in v for v in data.values()))
    ]


def test_template_passes_gitlabs_ci_schema() -> None:
    result = check_jsonschema(TEMPLATE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_gitlab_snippets_pass_gitlabs_ci_schema(tmp_path: Path) -> None:
    snippets = gitlab_snippets()
    assert any("branch-policy.gitlab-ci.yml" in text for _, text in snippets), "the README shows the include"
    files = []
    for i, (_, text) in enumerate(snippets):
        files.append(tmp_path / f"snippet-{i}.yml")
        files[-1].write_text(text)
    result = check_jsonschema(*files)
    assert result.returncode == 0, "\n".join([f"snippet-{i}.yml is {w}" for i, (w, _) in enumerate(snippets)]
                                             + [result.stdout, result.stderr])  # fmt: skip


def test_the_schema_has_teeth(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(TEMPLATE.read_text().replace("  rules:\n", "  rulez:\n", 1))
    result = check_jsonschema(broken)
    assert result.returncode == 1 and "rulez" in result.stdout, result.stdout


def test_template_runs_for_merge_requests_pushes_and_tags() -> None:
    """What the template promises: the job's pipelines, the whole history, the check as its last step."""
    job = yaml.safe_load(TEMPLATE.read_text())["branch-policy"]
    conditions = [rule["if"] for rule in job["rules"]]
    assert conditions == ['$CI_PIPELINE_SOURCE == "merge_request_event"', "$CI_COMMIT_BRANCH", "$CI_COMMIT_TAG"]
    assert job["variables"]["GIT_DEPTH"] == "0"
    assert job["script"][0].startswith("git fetch") and "+refs/heads/*:refs/remotes/origin/*" in job["script"][0]
    assert re.search(r"/bin/policy\"? check\b", job["script"][-1])
