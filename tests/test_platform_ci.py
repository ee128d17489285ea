"""CI on the hosting platforms, run here as the platforms run it.

The GitHub Action (`action.yml`), run the way a runner runs a composite action: each `run:` step
with its `${{ }}` expressions filled in, under `bash --noprofile --norc -eo pipefail`, in a workspace
checked out the way actions/checkout does with fetch-depth 0, with GitHub's variables and event
file. Its verdict must be `policy check`'s: same exit code, same rule ids.

The GitLab template's job script, run the way a GitLab runner runs it for a merge-request
pipeline, gives `policy check --merge`'s verdict.

And actionlint on action.yml and on every workflow the README and docs show."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml
from conftest import ZERO, Repo, World, policy_cmd, seed
from doc_blocks import yaml_blocks

ROOT = Path(__file__).resolve().parent.parent
# pip's cache and user configuration, read before the tests replace HOME
PIP_CACHE = os.environ.get("PIP_CACHE_DIR") or os.path.expanduser("~/.cache/pip")
PIP_CONFIG = os.environ.get("PIP_CONFIG_FILE") or os.path.expanduser("~/.config/pip/pip.conf")
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def action_copy(dest: Path) -> Path:
    """The action as `uses: owner/branch-policy@rev` brings it: the repository's files, no build
    products (`git ls-files`: tracked and new files, not the ignored ones)."""
    listed = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.split(b"\0")  # fmt: skip
    for name in filter(None, listed):
        source = ROOT / os.fsdecode(name)
        if source.is_file():
            target = dest / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def substitute(text: str, contexts: dict[str, dict[str, str]]) -> str:
    """`${{ context.name }}` as the runner fills it in; any other expression fails the test, so
    that action.yml never uses one this harness does not evaluate."""

    def value(m: re.Match[str]) -> str:
        context, _, name = m.group(1).partition(".")
        if context not in contexts or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name):
            raise AssertionError(f"expression this harness does not evaluate: {m.group(0)}")
        return contexts[context].get(name, "")

    return EXPRESSION.sub(value, text)


class StepResult(NamedTuple):
    code: int
    out: str
    err: str


def run_action(action_dir: Path, workspace: Path, env: dict[str, str], with_: dict[str, str]) -> StepResult:
    """Every step of the composite action in order, stopping at the first that fails."""
    meta = yaml.safe_load((action_dir / "action.yml").read_text())
    assert meta["runs"]["using"] == "composite"
    inputs = {name: str(spec.get("default", "")) for name, spec in meta.get("inputs", {}).items()}
    unknown = set(with_) - set(inputs)
    assert not unknown, f"inputs the action does not declare: {unknown}"
    inputs.update(with_)
    contexts = {
        "inputs": inputs,
        "github": {"action_path": str(action_dir), "workspace": str(workspace),
                   "event_name": env["GITHUB_EVENT_NAME"], "ref": env["GITHUB_REF"], "sha": env["GITHUB_SHA"]},
        "runner": {"temp": env["RUNNER_TEMP"], "os": "Linux"},
        "env": env,
    }  # fmt: skip
    out, err = [], []
    for index, step in enumerate(meta["runs"]["steps"]):
        assert "run" in step, f"step {index} is not a run step: {step}"
        assert step.get("shell") == "bash", "composite run steps name their shell"
        script = workspace.parent / f"step-{index}.sh"
        script.write_text(substitute(step["run"], contexts))
        step_env = {**env, "GITHUB_ACTION_PATH": str(action_dir)}
        step_env.update({k: substitute(str(v), contexts) for k, v in step.get("env", {}).items()})
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                              cwd=workspace, env=step_env, capture_output=True, text=True)  # fmt: skip
        out.append(proc.stdout)
        err.append(proc.stderr)
        if proc.returncode != 0:
            return StepResult(proc.returncode, "".join(out), "".join(err))
    return StepResult(0, "".join(out), "".join(err))


def checkout(server: Path, workspace: Path, ref: str, sha: str) -> None:
    """What actions/checkout does with fetch-depth: 0 for a push: every branch as a
    remote-tracking ref, every tag, then the pushed branch checked out at the event's commit."""

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=workspace, check=True, capture_output=True)

    workspace.mkdir()
    git("init", "-q")
    git("remote", "add", "origin", str(server))
    git("-c", "protocol.version=2", "fetch", "--no-tags", "--prune", "--no-recurse-submodules", "origin",
        "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*")  # fmt: skip
    branch = ref[len("refs/heads/") :]
    git("checkout", "--force", "-B", branch, f"refs/remotes/origin/{branch}")
    assert subprocess.run(["git", "rev-parse", "HEAD"], cwd=workspace, capture_output=True, text=True,
                          check=True).stdout.strip() == sha  # fmt: skip


def github_env(root: Path, workspace: Path, ref: str, before: str, after: str) -> dict[str, str]:
    event = {"ref": ref, "before": before, "after": after, "created": before == ZERO, "deleted": False,
             "forced": False, "repository": {"full_name": "lab/research", "default_branch": "main"},
             "head_commit": {"id": after}}  # fmt: skip
    event_path = root / "event.json"
    event_path.write_text(json.dumps(event))
    temp = root / "runner-temp"
    temp.mkdir(exist_ok=True)
    # the runner machine's own environment (PATH, pip's settings), less anything that would
    # make `policy check` take it for another CI system
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GITLAB_", "CI_"))}
    return {**keep, "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push",
            "GITHUB_EVENT_PATH": str(event_path), "GITHUB_REF": ref, "GITHUB_REF_NAME": ref.rsplit("/", 1)[-1],
            "GITHUB_REF_TYPE": "branch", "GITHUB_SHA": after, "GITHUB_REPOSITORY": "lab/research",
            "GITHUB_WORKSPACE": str(workspace), "RUNNER_TEMP": str(temp), "RUNNER_OS": "Linux",
            "PIP_CACHE_DIR": PIP_CACHE,
            **({"PIP_CONFIG_FILE": PIP_CONFIG} if os.path.isfile(PIP_CONFIG) else {})}  # fmt: skip


def annotated_rules(output: str) -> list[str]:
    """Rule ids of `::error title=<rule> <sha>::` annotations."""
    return sorted(m.group(1) for m in re.finditer(r"^::error (?:file=[^,]*,)?title=([a-z-]+)", output, re.M))


def direct_verdict(repo: Path, ref: str, before: str, after: str) -> tuple[int, list[str]]:
    proc = subprocess.run(policy_cmd("check", "--ref", ref, "--old", before, "--new", after, "--format", "json"),
                          cwd=repo, capture_output=True, text=True)  # fmt: skip
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    return proc.returncode, sorted(v["rule"] for v in json.loads(proc.stdout)["violations"])


@pytest.fixture(scope="module")
def action_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The action as a runner keeps it (`_actions/<owner>/<repo>/<ref>`), once for the module."""
    return action_copy(tmp_path_factory.mktemp("runner") / "_actions" / "lab" / "branch-policy" / "v1")


@pytest.fixture(scope="module")
def runner_temp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """RUNNER_TEMP of one runner for the module's jobs: the action installs itself on first use."""
    return tmp_path_factory.mktemp("runner-temp")


def push_and_run(
    world: World, repo: Repo, branch: str, action: Path, temp: Path
) -> tuple[StepResult, tuple[int, list[str]]]:
    """Push `branch` to a server without a hook (GitHub runs none), then the push workflow's job:
    checkout, the action, and `policy check` run directly in the same checkout."""
    after = repo.sha()
    assert repo.push(branch).ok
    ref = f"refs/heads/{branch}"
    workspace = world.root / "job" / "research"
    workspace.parent.mkdir()
    checkout(world.server, workspace, ref, after)
    env = github_env(workspace.parent, workspace, ref, ZERO, after)
    env["RUNNER_TEMP"] = str(temp)
    return run_action(action, workspace, env, {}), direct_verdict(workspace, ref, ZERO, after)


def test_action_accepts_what_policy_check_accepts(tmp_path: Path, action_dir: Path, runner_temp: Path) -> None:
    world = World(tmp_path, hook=False)
    repo = seed(world)
    repo.checkout("dev")
    repo.branch("feature-loader")
    repo.commit("feat(data): a loader", {"src/loader.py": "def load():\n    return []\n"})
    result, (code, rules) = push_and_run(world, repo, "feature-loader", action_dir, runner_temp)
    assert (code, rules) == (0, [])
    assert result.code == 0, result.out + result.err
    assert annotated_rules(result.out) == []
    assert "0 violations" in result.out


def test_action_refuses_what_policy_check_refuses(tmp_path: Path, action_dir: Path, runner_temp: Path) -> None:
    world = World(tmp_path, hook=False)
    repo = seed(world)
    repo.checkout("dev")
    repo.branch("feature-weights")
    repo.commit("updated stuff", {"models/best.pt": b"\0weights"})
    result, (code, rules) = push_and_run(world, repo, "feature-weights", action_dir, runner_temp)
    assert (code, rules) == (1, ["commit-message", "large-file"])
    assert result.code == code, result.out + result.err
    assert annotated_rules(result.out) == rules
    assert "::error file=models/best.pt," in result.out  # GitHub shows it on the file


# --------------------------------------------------------------------------- GitLab


def test_gitlab_template_judges_a_merge_request_like_policy_check(
    tmp_path: Path, action_dir: Path, runner_temp: Path
) -> None:
    """The template's script under `bash -eo pipefail` (as the runner runs it) in a clone the way
    GitLab makes one for a merge-request pipeline (whole history, detached at the source's
    commit), with GitLab's variables. BRANCH_POLICY_VENV names the environment the action made
    (as a runner cache would), so pip finds the tool installed and downloads nothing."""
    world = World(tmp_path, hook=False)
    repo = seed(world)
    repo.checkout("dev")
    repo.branch("feature-weights")
    repo.commit("feat: weights", {"models/best.pt": b"\0weights"})
    assert repo.push("feature-weights").ok
    sha = repo.sha()
    run_action(action_dir, tmp_path, {**github_env(tmp_path, tmp_path, "refs/heads/dev", ZERO, sha),
                                       "RUNNER_TEMP": str(runner_temp)}, {})  # installs, once per module  # fmt: skip
    project = tmp_path / "builds" / "research"
    subprocess.run(["git", "clone", "-q", str(world.server), str(project)], check=True)
    subprocess.run(["git", "checkout", "-q", "--detach", sha], cwd=project, check=True)
    job = yaml.safe_load((ROOT / "templates" / "branch-policy.gitlab-ci.yml").read_text())
    variables = {**job["variables"], **job["branch-policy"]["variables"],
                 "BRANCH_POLICY_VENV": str(runner_temp / "branch-policy-venv")}  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI_"))}
    env.update({k: str(v) for k, v in variables.items()})
    env.update({"CI": "true", "GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event",
                "CI_MERGE_REQUEST_IID": "3", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature-weights",
                "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "dev", "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": sha,
                "CI_COMMIT_SHA": sha, "CI_PROJECT_DIR": str(project), "PIP_NO_INDEX": "1",
                "CI_PROJECT_ID": "42", "CI_MERGE_REQUEST_PROJECT_ID": "42",
                "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "42"})  # fmt: skip
    script = tmp_path / "gitlab-job.sh"
    script.write_text("\n".join(job["branch-policy"]["script"]) + "\n")
    proc = subprocess.run(["bash", "-eo", "pipefail", str(script)], cwd=project, env=env, capture_output=True,
                          text=True)  # fmt: skip
    direct = subprocess.run(policy_cmd("check", "--merge", "feature-weights", "--into", "dev", "--format", "json"),
                            cwd=project, capture_output=True, text=True)  # fmt: skip
    rules = sorted(v["rule"] for v in json.loads(direct.stdout)["violations"])
    assert (direct.returncode, rules) == (1, ["large-file"])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    found = [line.split("  ")[0] for line in proc.stdout.splitlines() if "  " in line and not line[:1].isspace()]
    assert sorted(found) == rules, proc.stdout  # (a violation's hint is on its own indented line)


# --------------------------------------------------------------------------- actionlint


def actionlint() -> str:
    found = shutil.which("actionlint", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    if not found:
        pytest.fail("actionlint is not installed: pip install -e '.[test]'")
    return found


def workflow_blocks() -> list[tuple[str, str]]:
    """(where, text) of every ```yaml block of the README and docs/ that is a GitHub workflow."""
    return [(where, text) for where, text, data in yaml_blocks() if isinstance(data, dict) and "jobs" in data]


def lint(tmp_path: Path, workflows: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """actionlint over these workflows in a repository that holds this action at its root, so
    that `uses: ./` (and the README's `uses: <owner>/branch-policy@<rev>`) is checked against
    action.yml: its metadata, input names, required inputs."""
    project = tmp_path / "project"
    (project / ".github" / "workflows").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    shutil.copy2(ROOT / "action.yml", project / "action.yml")
    for name, text in workflows.items():
        local = re.sub(r"uses: [\w.-]+/branch-policy@\S+", "uses: ./", text)
        (project / ".github" / "workflows" / name).write_text(local)
    return subprocess.run([actionlint(), "-no-color"], cwd=project, capture_output=True, text=True)


def test_readme_and_docs_workflows_pass_actionlint(tmp_path: Path) -> None:
    blocks = workflow_blocks()
    assert any("branch-policy@" in text for _, text in blocks), "the README shows the action in a workflow"
    names = {f"doc-{i}.yml": text for i, (_, text) in enumerate(blocks)}
    result = lint(tmp_path, names)
    where = {f"doc-{i}.yml": place for i, (place, _) in enumerate(blocks)}
    assert result.returncode == 0, "\n".join(
        [f"{name} is {where[name]}" for name in where] + [result.stdout, result.stderr]
    )


def test_actionlint_checks_the_action_itself(tmp_path: Path) -> None:
    """The check above has teeth: a misspelt input and a broken action.yml are both caught."""
    use = "on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ./\n        with: {%s}\n"
    assert lint(tmp_path / "good", {"w.yml": use % "rules: commit-message"}).returncode == 0
    bad = lint(tmp_path / "bad", {"w.yml": use % "rule: commit-message"})
    assert bad.returncode == 1 and 'input "rule" is not defined' in bad.stdout, bad.stdout
