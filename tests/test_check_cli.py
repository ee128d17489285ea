"""`policy check` (and `policy rules` / `policy init`) as a CI job runs them: a subprocess of the CLI
in a real clone of a real bare repository. The server here has no hook, so that commits the hook
would refuse can be on it, as they are when CI runs before the hook is installed."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import NamedTuple, Optional

import pytest
from conftest import ZERO, Repo, World, config, policy_cmd, run, seed

from policy.config import RULE_IDS

TASK = "task-0.1.0-20261126-lr"
DEBUG = "debug-0.1.0-20261126-smoke"


class Out(NamedTuple):
    code: int
    out: str  # stdout
    err: str  # stderr

    @property
    def both(self) -> str:
        return self.out + self.err


def cli(repo: Repo, *args: str, env: Optional[dict[str, str]] = None, command: str = "check") -> Out:
    proc = subprocess.run(policy_cmd(command, *args), cwd=repo.path, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})  # fmt: skip
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return Out(proc.returncode, proc.stdout, proc.stderr)


def rules_of(result: Out) -> list[str]:
    """The rule ids of the text report's violation lines."""
    return sorted(line.split("  ")[0] for line in result.out.splitlines() if line.split("  ")[0] in RULE_IDS)


@pytest.fixture
def plain(tmp_path: Path) -> tuple[World, Repo]:
    world = World(tmp_path, hook=False)
    return world, seed(world)


def feature(repo: Repo, name: str = "feature-x", message: str = "feat: work", files: Optional[dict] = None) -> str:
    repo.checkout("dev")
    repo.branch(name)
    return repo.commit(message, files or {f"src/{name}.py": "x = 1\n"})


def task(repo: Repo, name: str = TASK) -> str:
    repo.checkout("main")
    repo.branch(name)
    return repo.commit("task: start", {f"tasks/{name}/config.yaml": config()})


# --------------------------------------------------------------------------- --ref/--old/--new


def test_ref_update_names_exit_codes_and_zeros(plain: tuple[World, Repo]) -> None:
    _, repo = plain
    start = repo.sha("dev")
    bad = feature(repo, message="bad message")
    for ref in ("feature-x", "refs/heads/feature-x"):
        result = cli(repo, "--ref", ref, "--old", ZERO, "--new", bad)
        assert result.code == 1, result.both
        assert rules_of(result) == ["commit-message"]
        assert result.out.splitlines()[-1] == f"feature-x: 1 commit judged (0000000..{bad[:7]}), 1 violation"
        assert "refs/heads/feature-x" in result.err and "refused" in result.err
    good = repo.commit("feat: fine", {"src/y.py": "y = 1\n"})
    assert cli(repo, "--ref", "feature-x", "--old", bad, "--new", good).code == 0  # only the new commit
    assert cli(repo, "--ref", "feature-x", "--old", start, "--new", good[:10]).code == 1  # short shas too
    assert repo.push("feature-x").ok
    assert cli(repo, "--ref", "feature-x", "--old", "origin/feature-x", "--new", ZERO).code == 0  # deletion
    result = cli(repo, "--ref", "main", "--old", "origin/main", "--new", ZERO)
    assert result.code == 1 and rules_of(result) == ["protected-ref"], result.both


def test_tags(plain: tuple[World, Repo]) -> None:
    _, repo = plain
    repo.checkout("main")
    repo.git("tag", "-a", "v0.1.0", "-m", "version 0.1.0")
    repo.git("tag", "v0.2.0")
    result = cli(repo, "--ref", "refs/tags/v0.1.0", "--old", ZERO, "--new", "v0.1.0")
    assert result.code == 0, result.both
    result = cli(repo, "--ref", "refs/tags/v0.2.0", "--old", ZERO, "--new", "v0.2.0")
    assert result.code == 1 and rules_of(result) == ["version-tag", "version-tag"], result.both
    assert "not annotated" in result.out and "says 0.1.0" in result.out
    result = cli(repo, "--ref", "refs/tags/v0.1.0", "--old", "v0.1.0", "--new", ZERO)
    assert result.code == 1 and rules_of(result) == ["protected-ref"], result.both
    result = cli(repo, "--ref", "refs/tags/scratch", "--old", ZERO, "--new", "dev")
    assert result.code == 0, result.both


def test_usage_errors_exit_2(plain: tuple[World, Repo]) -> None:
    _, repo = plain
    result = cli(repo, "--ref", "main", "--old", "deadbeef" * 5, "--new", "main")
    assert result.code == 2 and "is not in this repository" in result.err, result.both
    result = cli(repo, "--ref", "main", "--old", "no-such-branch", "--new", "main")
    assert result.code == 2 and "no-such-branch" in result.err, result.both
    assert cli(repo, "--ref", "main").code == 2
    assert cli(repo, "--merge", "dev").code == 2
    result = cli(repo, "--rules", "no-such-rule", "--ref", "main", "--old", "main", "--new", "main")
    assert result.code == 2 and "no-such-rule" in result.err, result.both
    result = cli(repo, "--merge", "feature-nothing", "--into", "main")
    assert result.code == 2 and "feature-nothing" in result.err, result.both
    result = cli(repo, "--policy", str(repo.path.parent), "--ref", "dev", "--old", "dev", "--new", "dev")
    assert result.code == 2 and "cannot read the policy file" in result.err, result.both


def test_a_branch_never_points_at_a_tree(plain: tuple[World, Repo]) -> None:
    """git refuses a tree or a blob on refs/heads/; check must not judge it as an empty range."""
    _, repo = plain
    blob = repo.sha("main:README.md")
    for rev in ("main^{tree}", blob):
        result = cli(repo, "--ref", "feature-x", "--old", ZERO, "--new", rev)
        assert result.code == 2 and "not a commit" in result.err, (rev, result.both)
    result = cli(repo, "--merge", "main^{tree}", "--into", "dev")
    assert result.code == 2 and "not a commit" in result.err, result.both
    repo.checkout("main")
    repo.git("tag", "-a", "marker", "-m", "an annotated tag")
    repo.commit("bad message")
    repo.git("tag", "-a", "-f", "marker", "-m", "moved")
    result = cli(repo, "--ref", "feature-x", "--old", "dev", "--new", "marker")  # the commit it tags
    assert result.code == 1 and "commit-message" in rules_of(result), result.both
    assert "refs/heads/feature-x dev..marker: refused" in result.err


# --------------------------------------------------------------------------- formats, --rules


def test_json_github_and_rules(plain: tuple[World, Repo]) -> None:
    _, repo = plain
    tip = feature(repo, message="bad message", files={"models/net.pt": "weights\n"})
    args = ("--ref", "feature-x", "--old", ZERO, "--new", tip)

    result = cli(repo, *args, "--format", "json")
    assert result.code == 1
    data = json.loads(result.out)
    assert data["ok"] is False
    assert all(set(v) == {"rule", "ref", "commit", "path", "message", "hint"} for v in data["violations"])
    assert sorted((v["rule"], v["path"]) for v in data["violations"]) == [
        ("commit-message", ""),
        ("large-file", "models/net.pt"),
    ]
    assert {v["commit"] for v in data["violations"]} == {tip}
    assert {v["ref"] for v in data["violations"]} == {"refs/heads/feature-x"}
    good = cli(repo, "--ref", "dev", "--old", "dev", "--new", "dev", "--format", "json")
    assert good.code == 0 and json.loads(good.out) == {"ok": True, "judged": 0, "violations": []}

    result = cli(repo, *args, "--format", "github")
    assert result.code == 1
    errors = [line for line in result.out.splitlines() if line.startswith("::error ")]
    assert len(errors) == 2, result.out
    assert all("title=" in line and "::" in line[len("::error ") :] for line in errors)
    assert any(line.startswith("::error file=models/net.pt,title=large-file") for line in errors), errors

    # a hostile file name stays one annotation, one JSON string, escaped
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=repo.path, input=b"w\n",
                          capture_output=True, check=True).stdout.strip()  # fmt: skip
    repo.git("update-index", "--add", "--cacheinfo", f"100644,{blob.decode()},models/a,b:c\n\x1b[2J.pt")
    odd = repo.commit("feat: odd weights")
    result = cli(repo, "--ref", "feature-x", "--old", tip, "--new", odd, "--format", "github")
    [line] = [line for line in result.out.splitlines() if line.startswith("::error ")]
    assert line.startswith("::error file=models/a%2Cb%3Ac\\n\\x1b[2J.pt,title=large-file "), line
    assert "\x1b" not in result.out
    result = cli(repo, "--ref", "feature-x", "--old", tip, "--new", odd, "--format", "json")
    assert [v["path"] for v in json.loads(result.out)["violations"]] == ["models/a,b:c\\n\\x1b[2J.pt"]

    only = cli(repo, *args, "--rules", "commit-message", "--format", "json")
    assert only.code == 1 and [v["rule"] for v in json.loads(only.out)["violations"]] == ["commit-message"]
    only = cli(repo, *args, "--rules", "large-file,task-scope")
    assert only.code == 1 and rules_of(only) == ["large-file"]
    assert cli(repo, *args, "--rules", "hotfix-size").code == 0


def test_click_reads_what_the_fast_reader_leaves_to_it_the_same_way(plain: tuple[World, Repo]) -> None:
    """A well-formed command line skips click; anything else goes through click, with the same
    options and the same verdict. (A repeated option is left to click, where the last one wins.)"""
    _, repo = plain
    tip = feature(repo, message="bad message", files={"models/net.pt": "weights\n"})
    policy_file = repo.path.parent / "only-messages.yaml"
    policy_file.write_text("rules:\n  large-file:\n    enabled: false\n")
    fast = cli(repo, "--ref=feature-x", f"--old={ZERO}", "--new", tip, "--format", "json", "--policy", str(policy_file))
    slow = cli(repo, "--ref", "feature-x", "--old", ZERO, "--new", tip, "--format", "text", "--format", "json",
               "--policy", str(policy_file), "--remote", "origin")  # fmt: skip
    assert fast.code == slow.code == 1, (fast.both, slow.both)
    assert json.loads(fast.out) == json.loads(slow.out)
    assert [v["rule"] for v in json.loads(slow.out)["violations"]] == ["commit-message"]  # --policy was read
    helped = cli(repo, "--help")
    assert helped.code == 0 and "--merge SOURCE" in helped.out, helped.both
    missing = cli(repo, "--ref")
    assert missing.code == 2 and "requires an argument" in missing.err, missing.both
    two_lines = cli(repo, "--ref", "feature-x", "--old", ZERO, "--new", f"{tip}\nHEAD")
    assert two_lines.code == 2 and "cannot span lines" in two_lines.err, two_lines.both


# --------------------------------------------------------------------------- --merge/--into


def test_merge_into(plain: tuple[World, Repo]) -> None:
    _, repo = plain
    feature(repo)
    task(repo)
    repo.checkout("dev")
    repo.branch(DEBUG)
    repo.commit("chore: debug run", {f"tasks/{DEBUG}/log": "ok\n"})
    assert repo.push("feature-x", TASK, DEBUG).ok

    result = cli(repo, "--merge", "feature-x", "--into", "main")
    assert result.code == 1 and rules_of(result) == ["merge-source"], result.both
    assert cli(repo, "--merge", "feature-x", "--into", "dev").code == 0
    assert cli(repo, "--merge", TASK, "--into", "main").code == 0
    result = cli(repo, "--merge", DEBUG, "--into", "dev")
    assert result.code == 1 and "debug-leak" in rules_of(result), result.both

    # every commit of the source is judged, also those the server already has
    repo.checkout(TASK)
    repo.commit("task: touch the model", {"src/model.py": "tweak = 1\n"})
    repo.commit("task: results", {f"tasks/{TASK}/log.txt": "loss 0.1\n"})
    assert repo.push(TASK).ok  # no hook on this server
    result = cli(repo, "--merge", TASK, "--into", "main")
    assert result.code == 1 and "task-scope" in rules_of(result), result.both
    assert "src/model.py" in result.out
    assert cli(repo, "--ref", TASK, "--old", "HEAD~1", "--new", "HEAD").code == 0  # that range alone is fine


# --------------------------------------------------------------------------- CI environments


def github(tmp_path: Path, event_name: str, event: object, **extra: str) -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    return {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event_name, "GITHUB_EVENT_PATH": str(path), **extra}


def test_github_actions_push_and_pull_request(plain: tuple[World, Repo], tmp_path: Path) -> None:
    _, repo = plain
    good = feature(repo)
    assert repo.push("feature-x").ok
    bad = repo.commit("bad message", {"src/z.py": "z = 1\n"})
    assert repo.push("feature-x").ok  # CI runs after the push, in a clone that has it
    ref = "refs/heads/feature-x"
    result = cli(repo, env=github(tmp_path, "push", {"ref": ref, "before": good, "after": bad}))
    assert result.code == 1 and rules_of(result) == ["commit-message"], result.both
    result = cli(repo, env=github(tmp_path, "push", {"ref": ref, "before": ZERO, "after": good}))
    assert result.code == 0, result.both
    result = cli(repo, env=github(tmp_path, "push", {"ref": ref}))
    assert result.code == 2 and "before/after" in result.err, result.both

    def pull_request(sha: str, base: str) -> dict:
        return {"pull_request": {"head": {"ref": "feature-x", "sha": sha, "repo": {"full_name": "lab/research"}},
                                 "base": {"ref": base}}, "repository": {"full_name": "lab/research"}}  # fmt: skip

    pr = github(tmp_path, "pull_request", pull_request(bad, "main"))
    result = cli(repo, env=pr)
    assert result.code == 1 and rules_of(result) == ["commit-message", "merge-source"], result.both
    repo.git("reset", "-q", "--hard", good)
    assert repo.push("--force", "feature-x").ok
    pr = github(tmp_path, "pull_request", pull_request(good, "dev"))
    result = cli(repo, env=pr)
    assert result.code == 0, result.both
    result = cli(repo, env=github(tmp_path, "workflow_dispatch", {}))
    assert result.code == 2 and "--ref" in result.err, result.both
    for broken in ([], {"ref": 5, "before": good, "after": bad}, {"ref": ref, "before": None, "after": bad}):
        result = cli(repo, env=github(tmp_path, "push", broken))
        assert result.code == 2 and ("GITHUB_EVENT_PATH" in result.err or "lacks" in result.err), result.both
    result = cli(repo, env={**github(tmp_path, "push", {}), "GITHUB_EVENT_PATH": str(tmp_path / "missing.json")})
    assert result.code == 2 and "cannot read GITHUB_EVENT_PATH" in result.err, result.both


def test_gitlab_ci_push_merge_request_and_tag(plain: tuple[World, Repo]) -> None:
    _, repo = plain
    good = feature(repo)
    bad = repo.commit("bad message", {"src/z.py": "z = 1\n"})
    assert repo.push("feature-x").ok
    push = {"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "feature-x",
            "CI_COMMIT_REF_NAME": "feature-x"}  # fmt: skip
    result = cli(repo, env={**push, "CI_COMMIT_SHA": bad, "CI_COMMIT_BEFORE_SHA": good})
    assert result.code == 1 and rules_of(result) == ["commit-message"], result.both
    result = cli(repo, env={**push, "CI_COMMIT_SHA": good, "CI_COMMIT_BEFORE_SHA": ZERO})
    assert result.code == 0, result.both

    mr = {"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "7",
          "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature-x", "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": "",
          "CI_COMMIT_SHA": good, "CI_PROJECT_ID": "41", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "41"}  # fmt: skip
    result = cli(repo, env={**mr, "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main"})
    assert result.code == 1 and rules_of(result) == ["merge-source"], result.both
    result = cli(repo, env={**mr, "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "dev"})
    assert result.code == 0, result.both

    # a tag pipeline: GitLab's CI_COMMIT_SHA is the tagged commit, not the tag object
    repo.checkout("main")
    repo.git("tag", "-a", "v0.1.0", "-m", "version 0.1.0")
    assert repo.push("v0.1.0").ok
    tag = {"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_TAG": "v0.1.0", "CI_COMMIT_REF_NAME": "v0.1.0",
           "CI_COMMIT_SHA": repo.sha("main"), "CI_COMMIT_BEFORE_SHA": ZERO}  # fmt: skip
    result = cli(repo, env=tag)
    assert result.code == 0, result.both
    repo.git("tag", "v0.1.1")  # lightweight (and not the version in the config)
    result = cli(repo, env={**tag, "CI_COMMIT_TAG": "v0.1.1", "CI_COMMIT_REF_NAME": "v0.1.1"})
    assert result.code == 1 and "not annotated" in result.out, result.both


def test_current_branch_against_its_upstream(plain: tuple[World, Repo]) -> None:
    _, repo = plain
    feature(repo)
    repo.git("push", "-q", "-u", "origin", "feature-x")
    assert cli(repo).code == 0  # nothing new
    repo.commit("bad message", {"src/z.py": "z = 1\n"})
    result = cli(repo)
    assert result.code == 1 and rules_of(result) == ["commit-message"], result.both
    assert "against its upstream" in result.err
    repo.branch("feature-local")
    result = cli(repo)
    # no upstream: judged as the new branch a push would create (the bad commit is in it)
    assert result.code == 1 and "as the new branch a push to origin would create" in result.err, result.both
    repo.git("checkout", "-q", "--detach")
    result = cli(repo)
    assert result.code == 2 and "detached" in result.err, result.both


# --------------------------------------------------------------------------- unjudgeable repositories


def test_shallow_clone_is_never_a_pass(plain: tuple[World, Repo], tmp_path: Path) -> None:
    world, _ = plain
    run(["git", "clone", "-q", "--depth", "1", "--no-single-branch", f"file://{world.server}", "shallow"], tmp_path)
    shallow = Repo(tmp_path / "shallow")
    assert shallow.git("rev-parse", "--is-shallow-repository") == "true"
    for args in (("--ref", "main", "--old", "origin/main", "--new", "origin/main"),
                 ("--merge", "dev", "--into", "main"), ()):  # fmt: skip
        result = cli(shallow, *args)
        assert result.code == 2, (args, result.both)
        assert "fetch-depth" in result.err and "unshallow" in result.err


def _laughs() -> str:
    lines = ["placeholders:", "  slug: &a0 [" + ", ".join(["lol"] * 9) + "]"]
    lines += [f"  p{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


MALFORMED: dict[str, tuple[str | bytes, str]] = {
    "types.yaml": ("rules:\n  commit-message:\n    types: feat\n", ":3: rules.commit-message.types: expected a list"),
    "typo.yaml": ("version: 1\nrulez: {}\n", ":2: rulez: unknown key (did you mean 'rules'?)"),
    "syntax.yaml": ("rules:\n  hotfix-size: [\n", ": not valid YAML"),
    "date.yaml": ("version: 1\non_error: 2026-13-45\n", ":2: on_error: expected 'refuse' or 'allow'"),
    "huge.yaml": ("rules:\n  hotfix-size:\n    max_lines: " + "9" * 5000 + "\n",
                  ":3: rules.hotfix-size.max_lines: expected a whole number"),
    "tag.yaml": ("on_error: !!python/name:os.system allow\n", ":1: on_error: expected 'refuse' or 'allow'"),
    "recursive.yaml": ("rules: &r\n  branch-name: *r\n", ":1: an alias refers to the value that contains it"),
    "deep.yaml": ("rules: " + "[" * 3000 + "]" * 3000 + "\n", "nest"),  # PyYAML >= 6.0.4 says "nesting depth"
    "laughs.yaml": (_laughs(), ":2: placeholders.slug: expected a regular expression"),
    "latin1.yaml": (b"# caf\xe9\nversion: 1\n", "not UTF-8"),
    "escape.yaml": ('rules:\n  "evil\\e[31m\\u202e": true\n', ":2: rules.evil\\x1b[31m\\u202e: unknown key"),
}  # fmt: skip


def test_malformed_policy_file_is_exit_2_with_file_line_and_key(plain: tuple[World, Repo]) -> None:
    _, repo = plain
    for name, (text, expected) in MALFORMED.items():
        path = repo.path.parent / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        result = cli(repo, "--policy", str(path), "--ref", "dev", "--old", "dev", "--new", "dev")
        assert result.code == 2, (name, result.both)
        assert f"{path}{expected}" in result.err or (f"{path}" in result.err and expected in result.err), result.err
        assert len(result.err) < 1000, (name, result.err)
        assert not any(ch in result.err for ch in "\x1b\u202e\r"), (name, result.err)


# --------------------------------------------------------------------------- rules / init


def test_rules_and_init(plain: tuple[World, Repo]) -> None:
    _, repo = plain
    result = cli(repo, command="rules")
    assert result.code == 0
    listed = [line.split()[0] for line in result.out.splitlines()[1 : 1 + len(RULE_IDS)]]
    assert listed == list(RULE_IDS) and len(listed) == 17

    result = cli(repo, command="init")
    assert result.code == 0, result.both
    written = repo.path / ".branch-policy.yaml"
    original = written.read_text()
    result = cli(repo, "--policy", str(written), "--format", "json", command="rules")
    assert result.code == 0, result.both
    shown = json.loads(result.out)
    assert shown["source"] == str(written) and shown["rules"]["hotfix-size"]["max_lines"] == 50

    written.write_text(original.replace("max_lines: 50", "max_lines: 20"))
    result = cli(repo, command="init")
    assert result.code == 2 and "--force" in result.err, result.both
    assert "max_lines: 20" in written.read_text()  # untouched
    result = cli(repo, "--force", command="init")
    assert result.code == 0, result.both
    assert written.read_text() == original
    assert "max_lines: 20" in (repo.path / ".branch-policy.yaml.orig").read_text()
