"""`policy export github|gitlab`: request bodies that the platforms' API schemas accept, whose RE2
patterns accept and refuse what the policy's own rules accept and refuse, read from the policy
as `policy rules` reads it. tests/schemas/README.md says where each schema comes from."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import re2
from conftest import World, policy_cmd, seed

from policy import export
from policy.commitmsg import is_git_merge_message
from policy.config import Policy, parse_policy_text
from policy.rules import commit_message, large_file

SCHEMAS = Path(__file__).resolve().parent / "schemas"
GITHUB = json.loads((SCHEMAS / "github-create-repo-ruleset.json").read_text())
GITLAB = json.loads((SCHEMAS / "gitlab-project-rules.json").read_text())

CUSTOM = """\
version: 1
placeholders:
  ticket: "[A-Z]+-[0-9]+"
branches:
  dev: null
  feature: {pattern: "feat/{ticket}-{slug}", merges_from: [main]}
rules:
  branch-name: {also_allow: ["dependabot/"]}
  commit-message: {types: [feat, fix, exp], max_subject_length: 50}
  large-file: {max_kb: 3000, suffixes: [".pt", ".ckpt"]}
"""


def errors(schema: dict[str, Any], instance: Any) -> list[str]:
    validator = jsonschema.Draft7Validator(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(policy_cmd("export", *args), cwd=cwd, capture_output=True, text=True)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc


@pytest.fixture(params=["defaults", "custom"])
def policy(request: pytest.FixtureRequest) -> Policy:
    return Policy.defaults() if request.param == "defaults" else parse_policy_text(CUSTOM, "custom.yaml")


ORG_CONDITIONS = {"$ref": "#/components/schemas/org-ruleset-conditions", "components": GITHUB["components"]}


def test_github_rulesets_match_githubs_schema(policy: Policy) -> None:
    workflow = export.WorkflowRef(4242, ".github/workflows/policy.yml", "main")
    rulesets = export.github(policy, workflow=workflow, repository="research")
    assert len(rulesets) == 7
    for ruleset in rulesets:
        assert errors(GITHUB, ruleset) == [], ruleset["name"]
    required = next(r for r in rulesets if r["name"] == "branch-policy: required workflow")
    assert errors(ORG_CONDITIONS, required["conditions"]) == []  # an organization ruleset
    assert required["conditions"]["repository_name"]["include"] == ["research"]
    assert errors(ORG_CONDITIONS, rulesets[0]["conditions"])  # the others are the repository's
    types = {rule["type"] for ruleset in rulesets for rule in ruleset["rules"]}
    assert types == {"deletion", "non_fast_forward", "pull_request", "required_status_checks", "workflows",
                     "update", "branch_name_pattern", "commit_message_pattern", "file_extension_restriction",
                     "max_file_size"}  # fmt: skip


def test_the_github_schema_has_teeth() -> None:
    """What the schema refuses: an unknown rule type, a size GitHub does not take, a missing
    required parameter. So the acceptance above means something."""
    good = export.github(Policy.defaults())
    assert all(errors(GITHUB, r) == [] for r in good)
    files = copy.deepcopy(next(r for r in good if r["target"] == "push"))
    files["rules"][1]["parameters"]["max_file_size"] = 0
    assert errors(GITHUB, files)
    protected = copy.deepcopy(good[0])
    del protected["rules"][3]["parameters"]["strict_required_status_checks_policy"]
    assert errors(GITHUB, protected)
    protected["rules"] = [{"type": "force_push"}]
    assert errors(GITHUB, protected)


def test_github_protects_main_dev_and_version_tags() -> None:
    protected, tags, names, strict, length, files = export.github(Policy.defaults(), check="policy")
    assert protected["conditions"]["ref_name"]["include"] == ["refs/heads/main", "refs/heads/dev"]
    rules = {r["type"]: r.get("parameters") for r in protected["rules"]}
    assert rules["required_status_checks"]["required_status_checks"] == [{"context": "policy"}]
    assert rules["pull_request"]["allowed_merge_methods"] == ["merge"]
    assert rules["pull_request"]["require_code_owner_review"] is True
    assert {"deletion", "non_fast_forward"} <= set(rules)
    assert protected["bypass_actors"] == [{"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}]
    assert tags["target"] == "tag" and tags["conditions"]["ref_name"]["include"] == ["refs/tags/v*"]
    assert [r["type"] for r in tags["rules"]] == ["update", "deletion"]
    assert names["conditions"]["ref_name"] == {"include": ["~ALL"], "exclude": ["refs/heads/main"]}
    assert strict["conditions"]["ref_name"]["include"] == ["refs/heads/main"]
    assert length["rules"][0]["parameters"]["negate"] is True
    assert files["target"] == "push" and "conditions" not in files
    assert files["rules"][0]["parameters"]["restricted_file_extensions"][:2] == ["*.pt", "*.pth"]
    assert files["rules"][1] == {"type": "max_file_size", "parameters": {"max_file_size": 1}}


def test_gitlab_payloads_match_the_documented_api(policy: Policy) -> None:
    payload = export.gitlab(policy, ci_config="research.gitlab-ci.yml@lab/ci-config")
    assert errors(GITLAB, payload) == []
    assert payload["project"]["ci_config_path"] == "research.gitlab-ci.yml@lab/ci-config"
    wrong = copy.deepcopy(payload)
    wrong["push_rule"]["commit_message_regexp"] = wrong["push_rule"].pop(
        "commit_message_regex"
    )  # a typo GitLab ignores
    wrong["protected_branches"][0]["push_access_level"] = 50
    assert len(errors(GITLAB, wrong)) == 2


def test_a_required_workflow_needs_the_repository_name(tmp_path: Path) -> None:
    proc = cli(tmp_path, "github", "--workflow", "4242:.github/workflows/policy.yml@main")
    assert proc.returncode == 2 and "--repository NAME" in proc.stderr
    out = cli(tmp_path, "github", "--workflow", "4242:.github/workflows/policy.yml@main", "--repository", "research",
              "--out", "rulesets")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "gh api --method POST orgs/{owner}/rulesets --input rulesets/required-workflow.json" in out.stderr
    assert "gh api --method POST repos/{owner}/{repo}/rulesets --input rulesets/files.json" in out.stderr


def test_gitlab_settings() -> None:
    payload = export.gitlab(parse_policy_text(CUSTOM, "custom.yaml"))
    assert [b["name"] for b in payload["protected_branches"]] == ["main"]  # dev removed by the policy
    assert payload["protected_tags"] == [{"name": "v*", "create_access_level": 40}]
    assert payload["push_rule"]["max_file_size"] == 3  # 3000 KB, rounded up to whole MB
    assert payload["project"]["merge_method"] == "merge" and payload["project"]["squash_option"] == "never"
    assert payload["project"]["merge_commit_template"].startswith("%{title}\n")


BRANCHES = ["main", "dev", "feature-loader", "feature-", "feature-Loader", "hotfix-nan", "task-0.2.0-20261126-lr",
            "task-0.2-20261126-lr", "task-0.2.0-20261126T101010-lr", "debug-0.1.0-20261126-1200-smoke", "mian",
            "feat/ABC-12-loader", "feat/abc-12-loader", "dependabot/pip/torch-2", "xdependabot/", "main\n",
            "dev-old", "release/1.0"]  # fmt: skip
MESSAGES = ["feat: add attention", "fix(data)!: drop nan rows", "feat:no space", "feat: ", "Feat: upper",
            "exp: sweep", "task: lr 3e-4", "updated stuff", "feat(a(b)): nested", "feat: ok\n\nbody line",
            "feat: " + "x" * 60, "feat: " + "x" * 70, "Merge branch 'feature-x' into dev",
            "Merge branch 'feature-x' into 'dev'\n\nSee merge request lab/research!3",
            "Merge pull request #3 from lab/feature-x", "\nfeat: after a blank line"]  # fmt: skip


def test_patterns_mean_what_the_rules_mean(policy: Policy) -> None:
    """Each exported RE2 pattern accepts exactly what the engine accepts, on names and messages
    that probe every part of it (placeholders, also_allow, types, scope, length, merges)."""
    names = re2.compile(export.branch_name_pattern(policy))
    for name in BRANCHES:
        assert bool(names.search(name)) == policy.allowed_name(name), name
    lenient = re2.compile(export.commit_message_pattern(policy, strict=False))
    strict = re2.compile(export.commit_message_pattern(policy, strict=True))
    too_long = re2.compile(export.long_subject_pattern(policy))
    for message in MESSAGES:
        if message.startswith("\n"):
            continue  # git drops leading blank lines before it stores a message
        subject = message.split("\n", 1)[0]
        length_ok = not too_long.search(message)
        assert length_ok == (len(subject) <= policy.settings("commit-message")["max_subject_length"]), message
        rule_ok = commit_message.problems(message, is_merge=False, strict=True, policy=policy) == []
        assert (bool(strict.search(message)) and length_ok) == rule_ok, message
        merge_ok = commit_message.problems(message, is_merge=True, strict=False, policy=policy) == []
        lenient_ok = bool(lenient.search(message)) and (length_ok or is_git_merge_message(subject))
        assert lenient_ok == merge_ok, message
    suffix = re2.compile(export.suffix_pattern(policy))
    for path in ["models/best.pt", "models/BEST.PT", "ckpt/epoch=3.ckpt", "src/model.py", "data.pt.dvc", "a.ptx"]:
        assert bool(suffix.search(path)) == large_file.has_suffix(path, policy), path


def test_a_placeholder_re2_cannot_read_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "lookahead.yaml").write_text('version: 1\nplaceholders:\n  slug: "(?!tmp)[a-z]+"\n')
    proc = cli(tmp_path, "github", "--policy", str(tmp_path / "lookahead.yaml"))
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and "slug" in proc.stderr, proc.stderr


def test_export_reads_mains_policy_and_writes_files(tmp_path: Path) -> None:
    """In a clone, the policy is main's (as the server reads it); --out writes one file per
    request and prints the commands that send them."""
    world = World(tmp_path, hook=False)
    repo = seed(world)
    repo.checkout("main")
    repo.commit("chore: policy", {".branch-policy.yaml": CUSTOM})
    assert repo.push("main").ok
    out = cli(repo.path, "github", "--out", "rulesets", "--bypass", "none")
    assert out.returncode == 0, out.stderr
    written = sorted(os.listdir(repo.path / "rulesets"))
    assert len(written) == 6
    for name in written:
        body = json.loads((repo.path / "rulesets" / name).read_text())
        assert errors(GITHUB, body) == [] and body["bypass_actors"] == []
        assert f"--input rulesets/{name}" in out.stderr
    names = json.loads((repo.path / "rulesets" / "branch-names-and-commit-messages.json").read_text())
    assert "feat/" in names["rules"][0]["parameters"]["pattern"]
    gitlab = cli(repo.path, "gitlab")
    assert gitlab.returncode == 0 and errors(GITLAB, json.loads(gitlab.stdout)) == []
    assert json.loads(gitlab.stdout)["push_rule"]["max_file_size"] == 3


def test_readme_table_says_what_each_platform_enforces() -> None:
    """The README's table and export.COVERAGE agree: a rule the export gives the platform is not
    called "the check only", and every rule has a row."""
    from policy.config import RULE_IDS

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    table = readme[readme.index("| rule | GitHub enforces itself | GitLab enforces itself |") :].split("\n\n")[0]
    seen: dict[str, tuple[str, str]] = {}
    for row in table.splitlines()[2:]:
        first, github_cell, gitlab_cell = (cell.strip() for cell in row.strip("|").split("|"))
        for rule in re.findall(r"`([a-z-]+)`", first):
            seen[rule] = (github_cell, gitlab_cell)
    assert sorted(seen) == sorted(RULE_IDS)
    assert sorted(c.rule for c in export.COVERAGE) == sorted(RULE_IDS)
    for c in export.COVERAGE:
        assert (seen[c.rule][0] == "the check only") == (c.github == ""), c.rule
        assert (seen[c.rule][1] == "the check only") == (c.gitlab == ""), c.rule


@pytest.mark.parametrize(
    ("args", "says"),
    [(["github", "--workflow", "branch-policy.yml"], "REPOSITORY_ID:PATH@REF"),
     (["gitlab", "--ci-config", "lab/ci-config"], "PATH@GROUP/PROJECT")],
)  # fmt: skip
def test_a_malformed_option_is_one_line_with_an_example(tmp_path: Path, args: list[str], says: str) -> None:
    proc = cli(tmp_path, *args)
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and says in proc.stderr and "e.g." in proc.stderr
