"""The server hook's fast path (issue 15): it starts Python without site and reads its settings
with one git process, and gives the same verdicts as the ordinary start."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Optional

from conftest import Repo, World, hook_script, refused

from policy.config import Policy, parse_policy_bytes
from policy.gitio import Git
from policy.loading import server_policy_file, server_refs, server_settings
from policy.naming import literal_ends


def test_server_settings_read_with_one_git_process(tmp_path: Path) -> None:
    server = tmp_path / "s.git"
    subprocess.run(["git", "init", "-q", "--bare", str(server)], check=True)
    git = Git(str(server))
    assert server_settings(git) == (["refs/heads/main", "HEAD"], None)
    assert git.processes == 1
    for key, value in (("branchpolicy.mainRef", "refs/heads/trunk"), ("branchpolicy.file", "/srv/old.yaml")):
        subprocess.run(["git", "-C", str(server), "config", key, value], check=True)
    # a key set twice: the last value wins, as `git config --get` says
    subprocess.run(["git", "-C", str(server), "config", "--add", "branchpolicy.file", "/srv/policy.yaml"], check=True)
    git = Git(str(server))
    assert server_settings(git) == (["refs/heads/trunk", "HEAD"], "/srv/policy.yaml")
    assert git.processes == 1
    assert (server_refs(git), server_policy_file(git)) == server_settings(git)
    subprocess.run(["git", "-C", str(server), "config", "branchpolicy.mainRef", "HEAD"], check=True)
    assert server_settings(Git(str(server)))[0] == ["HEAD"]


def hook_text(world: World) -> str:
    return hook_script(world.server).read_text()


def test_the_server_hook_starts_python_without_site(seeded: tuple[World, Repo]) -> None:
    world, repo = seeded
    assert "-S -c " in hook_text(world)
    repo.checkout("dev")
    repo.commit("no type here", {"src/a.py": "a = 1\n"})
    assert refused(repo.push("dev"), "commit-message")
    repo.git("commit", "--amend", "-q", "-m", "feat: a")
    assert repo.push("dev").ok


def test_a_stale_import_path_falls_back_to_the_ordinary_start(seeded: tuple[World, Repo]) -> None:
    """The directories written into the hook are gone (branch-policy reinstalled elsewhere): the
    hook starts Python the ordinary way and judges exactly as before."""
    world, repo = seeded
    hook = hook_script(world.server)
    stale = 'sys.path[0:0] = ["/nonexistent/branch-policy"]'
    text, count = re.subn(r"sys\.path\[0:0\] = \[[^\]]*\]", stale, hook_text(world))
    assert count == 2  # the legacy-hook branch and the plain one
    hook.write_text(text)
    repo.checkout("dev")
    repo.commit("no type here", {"src/b.py": "b = 1\n"})
    assert refused(repo.push("dev"), "commit-message")
    repo.git("commit", "--amend", "-q", "-m", "fix: b")
    assert repo.push("dev").ok
    assert world.server_sha("refs/heads/dev") == repo.sha()


NAMES = [
    "main", "dev", "mainx", "xmain", "feature-a", "feature-", "feature-A", "Feature-a", "hotfix-x.1",
    "task-0.1.0-20261126-1200-run", "task-0.1.0-20261126-run", "debug-1.2.3-20261126T120000-x",
    "exp/feature-a", "release/v1", "r-a-end", "r--end", "r-end", "Y-1", "y-1", "v1", "café-x", "",
]  # fmt: skip


def brute_kind(policy: Policy, name: str) -> Optional[str]:
    """kind_of without its literal pre-test: the first kind whose RE2 pattern matches whole."""
    return next((k for k, p in policy.kinds.items() if p.fullmatch(name)), None)


def test_kind_of_pre_test_keeps_every_kind() -> None:
    """The literal prefix/suffix test only spares RE2 calls: each name gets the kind a plain RE2
    match gives, with the defaults and with templates that end in literals, have none, or
    placeholders with flags of their own."""
    custom = parse_policy_bytes(
        b"version: 1\n"
        b"placeholders:\n  up: '(?i)[a-z]+'\n  n: '[0-9]+'\n"
        b"branches:\n"
        b"  main: {pattern: main}\n"
        b"  dev: {pattern: dev}\n"
        b"  feature: {pattern: 'r-{up}-end'}\n"
        b"  hotfix: {pattern: '{up}-{n}'}\n"
        b"  task: {pattern: 'exp/{slug}'}\n",
        "test",
    )
    for policy in (Policy.defaults(), custom):
        for name in NAMES:
            assert policy.kind_of(name) == brute_kind(policy, name), name
    assert custom.kind_of("Y-1") == "hotfix" and custom.kind_of("r-ABC-end") == "feature"
    assert literal_ends("task-{semver}-{time}-{slug}") == ("task-", "")
    assert literal_ends("r-{up}-end") == ("r-", "-end") and literal_ends("main") == ("main", "")
