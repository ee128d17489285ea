"""`policy check` before a push gives the verdict the push will get: a branch without an upstream is
judged as the new branch the push creates, `--old 0` (or empty) means create, and a remote-tracking
name (`origin/x`) is judged as branch x."""

from __future__ import annotations

from conftest import ZERO, Repo, World


def test_no_upstream_is_judged_as_the_new_branch(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.branch("feature-bad", "dev")
    repo.commit("added stuff", {"src/x.py": "x = 1\n"})
    check = repo.policy("check")
    assert check.code == 1 and "as the new branch a push to origin would create" in check.out, check.out
    assert "commit-message" in check.out
    push = repo.push("HEAD")
    assert not push.ok and "commit-message" in push.out
    repo.git("commit", "-q", "--amend", "--no-verify", "-m", "feat: x")
    check = repo.policy("check")
    assert check.ok and "feature-bad: 1 commit judged (0000000.." in check.out, check.out
    assert repo.push("feature-bad").ok


def test_old_zero_or_empty_means_create(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.branch("feature-x", "dev")
    repo.commit("feat: x", {"src/x.py": "x = 1\n"})
    for old in ("0", "", ZERO):
        check = repo.policy("check", "--ref", "feature-x", "--old", old, "--new", "HEAD")
        assert check.ok and "1 commit judged" in check.out, (old, check.out)


def test_merge_of_a_remote_tracking_branch(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.branch("feature-x", "dev")
    repo.commit("feat: x", {"src/x.py": "x = 1\n"})
    assert repo.push("feature-x").ok
    repo.checkout("dev")
    repo.git("branch", "-D", "feature-x")
    check = repo.policy("check", "--merge", "origin/feature-x", "--into", "dev")
    assert check.ok and "feature-x into dev" in check.out, check.out
    check = repo.policy("check", "--merge", "origin/feature-x", "--into", "main")
    assert check.code == 1 and "merge-source" in check.out, check.out
