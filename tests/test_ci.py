"""`policy check` as the README's CI snippets run it, in the checkout each platform makes, with the
event file or variables each platform sets. The server has no hook: in CI nothing judged the push
before the check runs, and a refused push stays on the server.

- GitHub: actions/checkout@v4 with fetch-depth 0 (`git init`, fetch every branch into
  refs/remotes/origin/* and every tag, then `checkout -B <branch>` for a push or a detached
  checkout of refs/remotes/pull/N/merge for a pull request), GITHUB_* and the event JSON.
- GitLab: the runner with GIT_DEPTH 0 (`git init`, fetch the pipeline's ref, detached checkout of
  CI_COMMIT_SHA), then the README's extra fetch; CI_* variables.
The command lines are read from the README.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple, Optional

import pytest
import yaml
from conftest import ZERO, Repo, World, config, seed

README = Path(__file__).resolve().parent.parent / "README.md"
REPO = "lab/research"
FORK = "mallory/research"
RULE = re.compile(r"^::error (?:file=[^,]*,)?title=([a-z-]+)[ :]", re.MULTILINE)


# --------------------------------------------------------------------------- the README's snippets


def _ci_snippets() -> tuple[dict, dict]:
    text = README.read_text()
    section = text[text.index("### In CI\n") : text.index("\n## ", text.index("### In CI\n"))]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)
    github, gitlab = (yaml.safe_load(block) for block in blocks[:2])
    return github, gitlab


GITHUB, GITLAB = _ci_snippets()
PIP = 'pip install "git+https://github.com/your-org/branch-policy@main" && '


def _github_command() -> str:
    steps = GITHUB["jobs"]["branch-policy"]["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@") and steps[0]["with"] == {"fetch-depth": 0}
    [run] = [step["run"] for step in steps if "run" in step]
    assert run.startswith(PIP), run
    return run[len(PIP) :]  # the package is installed in this test's interpreter


def _gitlab_script() -> list[str]:
    job = GITLAB["branch-policy"]
    assert job["variables"] == {"GIT_DEPTH": 0}
    *fetches, last = job["script"]
    assert last.startswith(PIP), last
    return [*fetches, last[len(PIP) :]]


class Out(NamedTuple):
    code: int
    out: str
    err: str

    def rules(self) -> list[str]:
        """Rule ids of the report: text lines or ::error annotations."""
        found = RULE.findall(self.out)
        if not found:
            # violation lines (each hint follows on an indented line of its own)
            found = [line.split("  ")[0] for line in self.out.splitlines() if "  " in line and line[:1] != " "]
        return sorted(found)


@pytest.fixture(scope="module")
def bin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`policy` on PATH: this interpreter's package (the README's `pip install` is done)."""
    path = tmp_path_factory.mktemp("bin")
    shim = path / "policy"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m policy "$@"\n')
    shim.chmod(0o755)
    return path


def _sh(args: list[str], cwd: Path) -> str:
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, f"{args}: {proc.stdout}{proc.stderr}"
    return proc.stdout.strip()


def _run_lines(lines: list[str], cwd: Path, env: dict[str, str], bin_dir: Path) -> Out:
    full = {**os.environ, **env, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    for line in lines[:-1]:
        proc = subprocess.run(["bash", "-ec", line], cwd=cwd, capture_output=True, text=True, env=full)
        assert proc.returncode == 0, (line, proc.stderr)
    proc = subprocess.run(["bash", "-ec", lines[-1]], cwd=cwd, capture_output=True, text=True, env=full)
    both = proc.stdout + proc.stderr
    assert "Traceback" not in both, both
    return Out(proc.returncode, proc.stdout, proc.stderr)


def one_line(result: Out, *words: str) -> None:
    """An unsupported event: exit 2, one line on stderr naming what is wrong, nothing judged."""
    assert result.code == 2, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("branch-policy: "), result.err
    assert all(word in lines[0] for word in words), (words, lines[0])


# --------------------------------------------------------------------------- the platforms


class Lab:
    """A hosted repository (a bare server without hook), a researcher's clone, and the platform's
    runs. `n` numbers checkouts, pull requests and pipelines."""

    def __init__(self, root: Path, bin_dir: Path) -> None:
        self.root = root
        self.world = World(root, hook=False)
        self.server = self.world.server
        _sh(["git", "config", "uploadpack.allowAnySHA1InWant", "true"], self.server)
        self.repo = self.world.work
        self.bin_dir = bin_dir
        self.n = 0

    def _next(self) -> int:
        self.n += 1
        return self.n

    def sha(self, ref: str) -> Optional[str]:
        return self.world.server_sha(ref)

    def _init(self, name: str) -> Path:
        path = self.root / name
        _sh(["git", "init", "-q", str(path)], self.root)
        _sh(["git", "remote", "add", "origin", f"file://{self.server}"], path)
        return path

    # -- GitHub -----------------------------------------------------------------
    def _actions_checkout(self, extra: list[str], checkout: list[str]) -> Path:
        path = self._init(f"gh-{self._next()}")
        _sh(["git", "fetch", "-q", "--prune", "--no-recurse-submodules", "origin",
             "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*", *extra], path)  # fmt: skip
        _sh(["git", "checkout", "-q", "--force", *checkout], path)
        return path

    def _github(self, path: Path, name: str, event: dict, env: dict[str, str], with_file: bool = True) -> Out:
        event_path = path.parent / f"{path.name}-event.json"
        event_path.write_text(json.dumps(event))
        env = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": name, "GITHUB_REPOSITORY": REPO,
               "GITHUB_SERVER_URL": f"file://{self.root}", **env}  # fmt: skip
        if with_file:
            env["GITHUB_EVENT_PATH"] = str(event_path)
        return _run_lines([_github_command()], path, env, self.bin_dir)

    def github_push(self, ref: str, before: str, *, default: str = "main", env: Optional[dict] = None) -> Out:
        """The run for a push that already happened: `before` is where the ref was."""
        after = self.sha(ref) or ZERO
        if ref.startswith("refs/heads/") and after != ZERO:
            branch = ref[len("refs/heads/") :]
            path = self._actions_checkout([], ["-B", branch, f"refs/remotes/origin/{branch}"])
        else:
            path = self._actions_checkout([], [after if after != ZERO else "refs/remotes/origin/main"])
        event = {"ref": ref, "before": before, "after": after, "created": before == ZERO,
                 "deleted": after == ZERO, "repository": {"full_name": REPO, "default_branch": default}}  # fmt: skip
        return self._github(path, "push", event, {"GITHUB_REF": ref, "GITHUB_SHA": after, **(env or {})})

    def open_pr(self, head: str, base: str, *, fork: Optional[Repo] = None) -> tuple[int, str, str]:
        """GitHub's refs/pull/N/head and refs/pull/N/merge on the server: (N, head sha, merge sha)."""
        number = self._next()
        source = fork or self.repo
        head_sha = source.sha(head)
        _sh(["git", "push", "-q", f"file://{self.server}", f"{head_sha}:refs/pull/{number}/head"], source.path)
        scratch = self.root / f"merge-{number}"
        _sh(["git", "clone", "-q", "--no-checkout", str(self.server), str(scratch)], self.root)
        _sh(["git", "fetch", "-q", "origin", f"refs/pull/{number}/head"], scratch)
        _sh(["git", "checkout", "-q", "--detach", f"origin/{base}"], scratch)
        _sh(["git", "merge", "-q", "--no-ff", "--no-verify", "-m", f"Merge {head_sha} into {self.sha(base)}",
             head_sha], scratch)  # fmt: skip
        merge = _sh(["git", "rev-parse", "HEAD"], scratch)
        _sh(["git", "push", "-q", "origin", f"HEAD:refs/pull/{number}/merge"], scratch)
        return number, head_sha, merge

    def github_pr(
        self, head: str, base: str, title: str, *, fork: Optional[Repo] = None, with_file: bool = True
    ) -> Out:
        number, head_sha, merge = self.open_pr(head, base, fork=fork)
        ref = f"refs/pull/{number}/merge"
        path = self._actions_checkout(
            [f"+{ref}:refs/remotes/pull/{number}/merge"], [f"refs/remotes/pull/{number}/merge"]
        )
        head_repo = FORK if fork else REPO
        event = {
            "action": "synchronize", "number": number,
            "pull_request": {
                "number": number, "title": title,
                "head": {"ref": head, "sha": head_sha, "repo": {"full_name": head_repo}},
                "base": {"ref": base, "sha": self.sha(base), "repo": {"full_name": REPO}},
            },
            "repository": {"full_name": REPO, "default_branch": "main"},
        }  # fmt: skip
        env = {"GITHUB_REF": ref, "GITHUB_SHA": merge, "GITHUB_HEAD_REF": head, "GITHUB_BASE_REF": base}
        return self._github(path, "pull_request", event, env, with_file)

    def merge_button(self, number_head: str, base: str, message: str, delete: bool = False) -> str:
        """GitHub's merge button: a merge commit of the request's head onto the base, with the
        message the repository's setting makes."""
        scratch = self.root / f"button-{self._next()}"
        _sh(["git", "clone", "-q", "--no-checkout", str(self.server), str(scratch)], self.root)
        _sh(["git", "checkout", "-q", "-B", base, f"origin/{base}"], scratch)
        _sh(["git", "merge", "-q", "--no-ff", "--no-verify", "-m", message, f"origin/{number_head}"], scratch)
        _sh(["git", "push", "-q", "origin", base] + ([f":{number_head}"] if delete else []), scratch)
        return _sh(["git", "rev-parse", "HEAD"], scratch)

    # -- GitLab -----------------------------------------------------------------
    def _runner(self, refspecs: list[str], sha: str) -> Path:
        """gitlab-runner with GIT_DEPTH 0: fetch the pipeline's refs, detached at the commit."""
        path = self._init(f"gl-{self._next()}")
        _sh(["git", "fetch", "-q", "--prune", "origin", *refspecs], path)
        _sh(["git", "checkout", "-q", "--force", sha], path)
        return path

    def _gitlab(self, path: Path, env: dict[str, str]) -> Out:
        env = {"GITLAB_CI": "true", "CI_PROJECT_ID": "41", "CI_DEFAULT_BRANCH": "main", **env}
        return _run_lines(_gitlab_script(), path, env, self.bin_dir)

    def gitlab_push(self, branch: str, before: str, *, source: str = "push", tag: bool = False, **env: str) -> Out:
        ref = f"refs/tags/{branch}" if tag else f"refs/heads/{branch}"
        sha = _sh(["git", "rev-parse", f"{ref}^{{commit}}"], self.server)
        pipeline = self._next()
        path = self._runner([f"+{sha}:refs/pipelines/{pipeline}", f"+{ref}:{ref}" if tag else
                             f"+{ref}:refs/remotes/origin/{branch}"], sha)  # fmt: skip
        names = {"CI_COMMIT_TAG": branch} if tag else {"CI_COMMIT_BRANCH": branch}
        return self._gitlab(path, {"CI_PIPELINE_SOURCE": source, "CI_COMMIT_SHA": sha, "CI_COMMIT_BEFORE_SHA": before,
                                   "CI_COMMIT_REF_NAME": branch, **names, **env})  # fmt: skip

    def gitlab_mr(self, source: str, target: str, title: str, *, fork: Optional[Repo] = None, **env: str) -> Out:
        iid = self._next()
        origin = fork or self.repo
        sha = origin.sha(source)
        _sh(["git", "push", "-q", f"file://{self.server}", f"{sha}:refs/merge-requests/{iid}/head"], origin.path)
        path = self._runner([f"+refs/merge-requests/{iid}/head:refs/pipelines/{iid}"], sha)
        return self._gitlab(path, {
            "CI_PIPELINE_SOURCE": "merge_request_event", "CI_COMMIT_SHA": sha, "CI_COMMIT_BEFORE_SHA": ZERO,
            "CI_COMMIT_REF_NAME": source, "CI_MERGE_REQUEST_IID": str(iid), "CI_MERGE_REQUEST_TITLE": title,
            "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": source, "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": target,
            "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "99" if fork else "41",
            "CI_MERGE_REQUEST_SOURCE_PROJECT_PATH": FORK if fork else REPO,
            "CI_MERGE_REQUEST_SOURCE_PROJECT_URL": f"file://{self.root}/{FORK if fork else REPO}.git",
            **env,
        })  # fmt: skip


@pytest.fixture
def lab(tmp_path: Path, bin_dir: Path) -> Lab:
    lab = Lab(tmp_path, bin_dir)
    seed(lab.world)
    return lab


def feature(
    repo: Repo, name: str, message: str = "feat: work", files: Optional[dict] = None, start: str = "dev"
) -> str:
    repo.checkout(start)
    repo.branch(name)
    return repo.commit(message, files or {f"src/{name}.py": "x = 1\n"})


def make_fork(lab: Lab) -> Repo:
    """mallory/research: a fork of the lab's repository, fetchable at GITHUB_SERVER_URL/mallory/research.git."""
    bare = lab.root / f"{FORK}.git"
    bare.parent.mkdir(parents=True)
    _sh(["git", "clone", "-q", "--bare", str(lab.server), str(bare)], lab.root)
    _sh(["git", "clone", "-q", str(bare), "mallory-work"], lab.root)
    return Repo(lab.root / "mallory-work")


# --------------------------------------------------------------------------- the snippets themselves


def _gitlab_runs(source: str) -> bool:
    """Whether GitLab adds the README's job to a pipeline of this source (its `rules: - if:`)."""
    for rule in GITLAB["branch-policy"]["rules"]:
        m = re.fullmatch(r'\$CI_PIPELINE_SOURCE == "([a-z_]+)"', rule["if"])
        assert m, rule
        if m.group(1) == source:
            return rule.get("when", "on_success") != "never"
    return False


def test_the_snippets_run_for_pushes_and_requests_only() -> None:
    triggers = GITHUB[True]  # YAML 1.1 reads the key `on` as True
    assert "push" in triggers and "edited" in triggers["pull_request"]["types"]
    assert _github_command() == "policy check --format github"
    assert _gitlab_runs("push") and _gitlab_runs("merge_request_event")
    for source in ("schedule", "web", "api", "trigger", "external_pull_request_event"):
        assert not _gitlab_runs(source), source
    assert _gitlab_script()[-1] == "policy check"


# --------------------------------------------------------------------------- what counts as judged


def test_push_runs_judge_what_no_protected_branch_has(lab: Lab) -> None:
    repo = lab.repo
    dev_before = lab.sha("refs/heads/dev")
    feature(repo, "feature-x", files={"models/net.pt": "weights\n"})
    repo.checkout("dev")
    repo.merge("feature-x", "feat: merge the weights")
    assert repo.push("feature-x", "dev").ok  # no hook: both land
    result = lab.github_push("refs/heads/dev", dev_before)
    assert result.code == 1 and "large-file" in result.rules(), result
    # a branch started on a red branch: the red commit is judged again in the new branch's run
    feature(repo, "feature-red", message="bad message", start="main")
    assert repo.push("feature-red").ok
    assert lab.github_push("refs/heads/feature-red", ZERO).rules() == ["commit-message"]
    repo.branch("feature-on-red")
    repo.commit("feat: fine on its own", {"src/ok.py": "ok = 1\n"})
    assert repo.push("feature-on-red").ok
    result = lab.github_push("refs/heads/feature-on-red", ZERO)
    assert result.code == 1 and result.rules() == ["commit-message"], result
    result = lab.gitlab_push("feature-on-red", ZERO)
    assert result.code == 1 and result.rules() == ["commit-message"], result


# --------------------------------------------------------------------------- the policy


def test_the_policy_is_mains_before_the_event(lab: Lab) -> None:
    repo = lab.repo
    before = lab.sha("refs/heads/main")
    repo.checkout("main")
    lax = "rules:\n  main-direct-commit:\n    enabled: false\n  large-file:\n    enabled: false\n"
    repo.commit("feat: loosen the rules", {".branch-policy.yaml": lax, "models/net.pt": "w\n"})
    assert repo.push("main").ok
    result = lab.github_push("refs/heads/main", before)
    assert result.code == 1 and result.rules() == ["large-file", "main-direct-commit"], result
    result = lab.gitlab_push("main", before)
    assert result.code == 1 and result.rules() == ["large-file", "main-direct-commit"], result
    # a feature branch is judged by main's policy (now the lax one), never by its own file
    feature(repo, "feature-strict", files={".branch-policy.yaml": "rules:\n  commit-message:\n    enabled: false\n",
                                           "models/b.pt": "w\n"})  # fmt: skip
    assert repo.push("feature-strict").ok
    assert lab.github_push("refs/heads/feature-strict", ZERO).code == 0
    # BRANCH_POLICY_FILE is not honoured in CI, not even silently ignored
    (lab.root / "mine.yaml").write_text("rules:\n  large-file:\n    enabled: true\n")
    result = lab.github_push("refs/heads/feature-strict", ZERO, env={"BRANCH_POLICY_FILE": str(lab.root / "mine.yaml")})
    one_line(result, "BRANCH_POLICY_FILE", "--policy")


def test_without_main_the_policy_is_not_found(tmp_path: Path, bin_dir: Path) -> None:
    lab = Lab(tmp_path, bin_dir)
    repo = lab.repo
    lax = "rules:\n  large-file:\n    enabled: false\n"
    repo.commit("feat: first", {".branch-policy.yaml": lax, "models/net.pt": "w\n"})
    repo.branch("dev")
    assert repo.push("dev").ok  # the first branch: nothing before it, so the defaults judge it
    result = lab.github_push("refs/heads/dev", ZERO)
    assert result.code == 1 and result.rules() == ["large-file"], result
    feature(repo, "feature-x")
    assert repo.push("feature-x").ok  # branches exist, none of them main: never the working tree
    one_line(lab.github_push("refs/heads/feature-x", ZERO), "cannot find the policy", "main")
    one_line(lab.gitlab_push("feature-x", ZERO), "cannot find the policy")


def test_main_is_found_as_the_policy_defines_it(tmp_path: Path, bin_dir: Path) -> None:
    lab = Lab(tmp_path, bin_dir)
    repo = lab.repo
    trunk = "branches:\n  main:\n    pattern: trunk\nrules:\n  large-file:\n    enabled: false\n"
    repo.git("checkout", "-q", "-b", "trunk")
    repo.commit("feat: start", {".branch-policy.yaml": trunk, "tasks/main/config.yaml": config()})
    repo.branch("dev")
    assert repo.push("trunk", "dev").ok
    strict = "branches:\n  main:\n    pattern: trunk\n"  # the judged commit's own file: not read
    feature(repo, "feature-x", files={".branch-policy.yaml": strict, "models/net.pt": "w\n"})
    assert repo.push("feature-x").ok
    assert lab.github_push("refs/heads/feature-x", ZERO, default="trunk").code == 0  # trunk's policy
    assert lab.gitlab_push("feature-x", ZERO, CI_DEFAULT_BRANCH="trunk").code == 0
    # a branch named main whose own policy does not call it main is not main
    repo.checkout("dev")
    repo.git("checkout", "-q", "-b", "main")
    assert repo.push("main").ok
    assert lab.github_push("refs/heads/feature-x", ZERO, default="trunk").code == 0


# --------------------------------------------------------------------------- forks


def test_a_forks_branch_is_never_ours(lab: Lab) -> None:
    fork = make_fork(lab)
    fork.checkout("dev")
    fork.commit("feat: from the fork", {"src/fork.py": "f = 1\n"})
    result = lab.github_pr("dev", "main", "feat: a fork's dev", fork=fork)
    assert result.code == 1 and result.rules() == ["merge-source"], result
    assert FORK in result.out
    fork.checkout("main")
    fork.commit("bad message: a direct commit", {"src/direct.py": "d = 1\n"})
    result = lab.github_pr("main", "dev", "feat: a fork's main", fork=fork)  # no bootstrap for a fork's main
    assert result.code == 1 and result.rules() == ["commit-message", "merge-source"], result
    result = lab.gitlab_mr("dev", "dev", "feat: a fork's dev", fork=fork)
    assert result.code == 1 and result.rules() == ["merge-source"], result

    # the hint, followed literally in the lab's clone, brings it in as a branch of ours
    fork.checkout("dev")
    assert subprocess.run(["git", "push", "-q", "origin", "dev"], cwd=fork.path).returncode == 0
    result = lab.github_pr("dev", "dev", "feat: a fork's dev", fork=fork)
    [hint] = re.findall(r"git fetch \S+ dev && git push origin FETCH_HEAD:refs/heads/[a-z0-9._-]+", result.out)
    subprocess.run(["bash", "-ec", hint], cwd=lab.repo.path, check=True, capture_output=True)
    branch = hint.rsplit("refs/heads/", 1)[1]
    assert branch.startswith("feature-")
    lab.repo.git("fetch", "-q", "origin")
    lab.repo.git("branch", "-q", "-f", branch, f"origin/{branch}")
    assert lab.github_pr(branch, "dev", "feat: from the fork").code == 0


# --------------------------------------------------------------------------- zeros, and what is unsupported


def test_zeros_are_a_creation_only_in_a_push_pipeline(lab: Lab) -> None:
    repo = lab.repo
    repo.checkout("main")
    repo.commit("feat: a direct commit on main", {"src/direct.py": "d = 1\n"})
    assert repo.push("main").ok
    for source in ("schedule", "web"):
        one_line(lab.gitlab_push("main", ZERO, source=source), source, "push")
    feature(repo, "feature-new", message="bad message")
    assert repo.push("feature-new").ok
    result = lab.gitlab_push("feature-new", ZERO)
    assert result.code == 1 and result.rules() == ["commit-message"], result
    repo.git("tag", "v0.1.0")  # lightweight: refused as a new tag (GitLab names no old value)
    assert repo.push("v0.1.0").ok
    result = lab.gitlab_push("v0.1.0", ZERO, tag=True)
    assert result.code == 1 and "version-tag" in result.rules(), result


def test_unsupported_events_exit_2_with_one_line(lab: Lab) -> None:
    feature(lab.repo, "feature-x")
    assert lab.repo.push("feature-x").ok
    one_line(lab.gitlab_push("feature-x", ZERO, source="external_pull_request_event"), "external pull request")
    result = lab.gitlab_push("feature-x", ZERO, CI_COMMIT_BRANCH="")
    one_line(result, "CI_COMMIT_BRANCH")
    one_line(lab.github_pr("feature-x", "dev", "feat: x", with_file=False), "event file", "GITHUB_EVENT_PATH")
    path = lab._actions_checkout([], ["refs/remotes/origin/dev"])
    deep = path.parent / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    env = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(deep)}
    one_line(_run_lines([_github_command()], path, env, lab.bin_dir), "GITHUB_EVENT_PATH")
    env["GITHUB_EVENT_NAME"] = "workflow_dispatch"
    one_line(_run_lines([_github_command()], path, env, lab.bin_dir), "workflow_dispatch", "not supported")


# --------------------------------------------------------------------------- ordinary work passes


def test_a_merge_through_githubs_button_passes(lab: Lab) -> None:
    repo = lab.repo
    feature(repo, "feature-x")
    assert repo.push("feature-x").ok
    assert lab.github_pr("feature-x", "dev", "feat: the loader").code == 0
    dev_before = lab.sha("refs/heads/dev")
    lab.merge_button("feature-x", "dev", "feat: the loader (#1)")
    assert lab.github_push("refs/heads/dev", dev_before).code == 0
    # the release: its title is judged as the merge commit's message on the strict main
    result = lab.github_pr("dev", "main", "Release")
    assert result.code == 1 and result.rules() == ["commit-message"], result
    assert "title 'Release (#" in result.out and "title of the pull/merge request" in result.out
    number = lab.n + 1
    assert lab.github_pr("dev", "main", "feat: release 0.1.0").code == 0
    main_before = lab.sha("refs/heads/main")
    lab.merge_button("dev", "main", f"feat: release 0.1.0 (#{number})")  # Default commit message: PR title
    assert lab.github_push("refs/heads/main", main_before).code == 0
    # GitHub's own message ("Default message"): refused on main, as the README says
    repo.git("fetch", "-q", "origin")
    feature(repo, "feature-y", start="origin/dev")
    assert repo.push("feature-y").ok
    lab.merge_button("feature-y", "dev", "feat: y (#9)")
    main_before = lab.sha("refs/heads/main")
    lab.merge_button("dev", "main", f"Merge pull request #9 from {REPO}/dev")
    result = lab.github_push("refs/heads/main", main_before)
    assert result.code == 1 and result.rules() == ["commit-message"], result
    result = lab.gitlab_mr("dev", "main", "Merge branch 'dev' into 'main'")
    assert result.code == 1 and result.rules() == ["commit-message"], result


def test_a_release_after_merged_branches_were_deleted(lab: Lab) -> None:
    repo = lab.repo
    for name in ("feature-a", "feature-b"):
        feature(repo, name)
        assert repo.push(name).ok
        assert lab.github_pr(name, "dev", f"feat: {name}").code == 0
        lab.merge_button(name, "dev", f"feat: {name} (#{lab.n})", delete=True)
        repo.git("fetch", "-q", "--prune", "origin")
        repo.git("checkout", "-q", "-B", "dev", "origin/dev")
    assert lab.sha("refs/heads/feature-a") is None
    # why the README says to keep a merged branch until the target's push run has run
    result = lab.github_push("refs/heads/dev", repo.sha("dev~1"))
    assert result.code == 1 and result.rules() == ["merge-source"], result
    assert lab.github_pr("dev", "main", "feat: release 0.1.0").code == 0
    assert lab.gitlab_mr("dev", "main", "feat: release 0.1.0").code == 0


def test_force_pushes(lab: Lab) -> None:
    repo = lab.repo
    feature(repo, "feature-x")
    assert repo.push("feature-x").ok
    old = repo.sha()
    repo.git("commit", "-q", "--amend", "--no-verify", "-m", "feat: work, reworded")
    assert repo.push("--force", "feature-x").ok  # allowed: a temporary branch
    assert lab.github_push("refs/heads/feature-x", old).code == 0
    assert lab.gitlab_push("feature-x", old).code == 0
    # dev is protected: a rewrite is refused, even when the old commit is gone from the clone
    repo.checkout("dev")
    repo.commit("feat: on dev", {"src/d.py": "d = 1\n"})
    assert repo.push("dev").ok
    old = repo.sha()
    repo.git("commit", "-q", "--amend", "--no-verify", "-m", "feat: on dev, rewritten")
    assert repo.push("--force", "dev").ok
    result = lab.github_push("refs/heads/dev", old)
    assert result.code == 1 and result.rules() == ["protected-ref"], result
    # a version tag moved: GitHub names the old tag object, which the clone no longer has
    repo.checkout("main")
    repo.git("tag", "-a", "v0.1.0", "-m", "version 0.1.0")
    assert repo.push("v0.1.0").ok
    old_tag = repo.sha("v0.1.0")
    repo.git("tag", "-f", "-a", "v0.1.0", "-m", "version 0.1.0, again")
    assert repo.push("--force", "v0.1.0").ok
    result = lab.github_push("refs/tags/v0.1.0", old_tag)
    assert result.code == 1 and result.rules() == ["protected-ref"], result
    # main rewritten: refused; and when its old commit is gone, its policy cannot be read: exit 2
    repo.git("commit", "-q", "--amend", "--no-verify", "-m", "feat: initial model, rewritten")
    old = lab.sha("refs/heads/main")
    assert repo.push("--force", "main").ok
    result = lab.github_push("refs/heads/main", old)  # the old commit is still on dev
    assert result.code == 1 and result.rules() == ["main-direct-commit", "protected-ref"], result
    repo.commit("feat: straight onto main", {"src/m.py": "m = 1\n"})
    assert repo.push("main").ok
    old = repo.sha()
    repo.git("commit", "-q", "--amend", "--no-verify", "-m", "feat: straight onto main, again")
    assert repo.push("--force", "main").ok
    one_line(lab.github_push("refs/heads/main", old), "cannot read the policy", "force-push")
