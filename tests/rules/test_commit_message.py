"""commit-message, directly: one message in, the problems (or the corrected message) out. The
messages are the ones git and the platforms really write (see test_commit_messages_real.py for
the same messages made by git and pushed to a server with the hook)."""

from __future__ import annotations

from typing import Any, Optional

import pytest

from policy.config import Policy, PolicyError, parse_policy_text
from policy.model import Commit
from policy.rules import commit_message
from policy.rules.commit_message import fixed, problems

SHA = "0123456789abcdef0123456789abcdef01234567"


def policy(**settings: Any) -> Policy:
    """The defaults with these commit-message settings, loaded through the policy file's own
    validation (so every setting tested here is one a user can write)."""
    import json

    lines = "".join(f"    {key}: {json.dumps(value)}\n" for key, value in settings.items())
    return parse_policy_text(f"rules:\n  commit-message:\n{lines}" if lines else "", ".branch-policy.yaml")


DEFAULT = policy()

# message, is_merge, strict, settings
ACCEPTED: list[tuple[str, bool, bool, dict[str, Any]]] = [
    ("feat: add attention", False, False, {}),
    ("feat(model): add attention", False, True, {}),
    ("feat(model)!: drop the old loader\n\nBREAKING CHANGE: the loader is gone", False, True, {}),
    ("fix: x\n\nbody after a blank line\n\nRefs: #12", False, True, {}),
    ("FEAT: shout", False, False, {"type_case": "any"}),
    ("Fix: capitalised", False, True, {"type_case": "any"}),
    ("i18n: add French", False, False, {"types": ["feat", "i18n", "build_deps", "dev-deps"]}),
    ("build_deps: bump torch", False, False, {"types": ["feat", "i18n", "build_deps", "dev-deps"]}),
    ("dev-deps(ci): bump ruff", False, False, {"types": ["feat", "i18n", "build_deps", "dev-deps"]}),
    ("feat(model): x", False, False, {"scopes": ["model", "data"], "scope_required": True}),
    ("feat(data/loader): x", False, False, {"scopes": "model|data(/.*)?"}),
    # git's own and the platforms' merge messages, on merges off strict branches
    ("Merge branch 'feature-x' into dev", True, False, {}),
    ("Merge pull request #31 from owner/feature-x\n\nAdd x", True, False, {}),
    (
        "Merge branch 'feature-x' into 'dev'\n\nAdd x\n\nSee merge request group/project!12",
        True,
        False,
        {"allow_git_merge_messages": False},
    ),
    (
        "Merge pull request 'Add x' (#3) from feature-x into dev\n\nReviewed-on: https://gitea.example/o/r/pulls/3",
        True,
        False,
        {},
    ),
    ("Merge pull request 'Add x' (!3) from someone/repo:feature-x into dev", True, False, {}),
    ("Merged in feature-x (pull request #12)\n\nAdd x\n\nApproved-by: A <a@example.com>", True, False, {}),
    ("Merge pull request #12 in PROJ/repo from feature-x to dev\n\n* commit 'abc':\n  Add x", True, False, {}),
    ("Merged PR 77: add x", True, False, {"platform_merge_messages": {"azure": "Merged PR [0-9]+: "}}),
    # autosquash, off strict branches
    ("fixup! feat: add attention", False, False, {}),
    ("squash! feat: add attention\n\nmore words", False, False, {}),
    ("amend! feat: add attention\n\nfeat: add attention heads", False, False, {}),
    # git revert, everywhere; its subject may be longer than the limit
    (f'Revert "feat: add attention"\n\nThis reverts commit {SHA}.\n', False, True, {}),
    (f'Revert "feat: {"x" * 70}"\n\nThis reverts commit {SHA}.\n', False, False, {}),
    (f'Reapply "feat: add attention"\n\nThis reverts commit {SHA}.\n', False, False, {}),
    (f'Revert "feat: add attention (#12)" (#14)\n\nThis reverts commit {SHA}.', False, True, {}),  # GitHub squash
    (f"Revert \"Merge branch 'a'\"\n\nThis reverts commit {SHA}, reversing\nchanges made to {SHA}.", True, False, {}),
]


@pytest.mark.parametrize(("message", "is_merge", "strict", "settings"), ACCEPTED)
def test_accepted(message: str, is_merge: bool, strict: bool, settings: dict[str, Any]) -> None:
    assert problems(message, is_merge, strict, policy(**settings)) == []


COLON = "write ': ' (a colon, then one space) after 'feat': did you mean 'feat: add x'?"

# message, is_merge, strict, settings, the whole refusal
REFUSED: list[tuple[str, bool, bool, dict[str, Any], str]] = [
    ("Feat: add x", False, False, {}, "type 'Feat' is written 'feat' here: did you mean 'feat: add x'?"),
    ("FIX(data): y", False, False, {}, "type 'FIX' is written 'fix' here: did you mean 'fix(data): y'?"),
    (
        "feat(model) add dropout",
        False,
        False,
        {},
        "add ':' after the type 'feat(model)': did you mean 'feat(model): add dropout'?",
    ),
    ("fix typo in loader", False, False, {}, "add ':' after the type 'fix': did you mean 'fix: typo in loader'?"),
    ("feat:add x", False, False, {}, COLON),
    (
        "feat : add x",
        False,
        False,
        {},
        COLON,
    ),
    (
        "feet: add x",
        False,
        False,
        {},
        "type 'feet' is not one of feat, fix, docs, style, refactor, test, chore, task: did you mean 'feat: add x'?",
    ),
    (
        "feature(model): x",
        False,
        False,
        {},
        "type 'feature' is not one of feat, fix, docs, style, refactor, test, chore, task: "
        "did you mean 'feat(model): x'?",
    ),
    ("wip: x", False, False, {}, "type 'wip' is not one of feat, fix, docs, style, refactor, test, chore, task"),
    (
        "feat(): x",
        False,
        False,
        {},
        "the scope '()' is empty: name one or leave the parentheses out: did you mean 'feat: x'?",
    ),
    ("feat: ", False, False, {}, "the description after 'feat: ' is empty"),
    (
        "fix: message\nno blank line",
        False,
        False,
        {},
        "line 2 is not blank: leave an empty line between the subject and the body",
    ),
    ("feat: " + "x" * 78, False, False, {}, "subject is 84 characters, 12 over the limit of 72"),
    ("updated stuff", False, False, {}, "subject 'updated stuff' is not 'type(scope)!: description'"),
    ("", False, False, {}, "the message is empty"),
    (
        "feat(modle): x",
        False,
        False,
        {"scopes": ["model", "data"]},
        "scope 'modle' is not one of model, data (did you mean 'model'?)",
    ),
    (
        "feat(ui): x",
        False,
        False,
        {"scopes": "model|data(/.*)?"},
        "scope 'ui' does not match the pattern 'model|data(/.*)?'",
    ),
    (
        "feat: x",
        False,
        False,
        {"scope_required": True, "scopes": ["model"]},
        "a scope is required here: 'type(scope): description' (one of model)",
    ),
    # the platforms' messages: on real merges only, never on strict branches, each a setting
    (
        "Merge pull request #31 from owner/feature-x",
        False,
        False,
        {},
        "subject 'Merge pull request #31 from owner/feature-x' is not 'type(scope)!: description'",
    ),
    (
        "Merge pull request #31 from owner/feature-x",
        True,
        True,
        {},
        "subject 'Merge pull request #31 from owner/feature-x' is not 'type(scope)!: description'",
    ),
    (
        "Merge pull request #31 from owner/feature-x",
        True,
        False,
        {"allow_platform_merge_messages": False},
        "subject 'Merge pull request #31 from owner/feature-x' is not 'type(scope)!: description'",
    ),
    (
        "Merge pull request #31 from owner/feature-x",
        True,
        False,
        {"platform_merge_messages": {"github": None}},
        "subject 'Merge pull request #31 from owner/feature-x' is not 'type(scope)!: description'",
    ),
    (
        "Merge branch 'feature-x' into 'dev'\n\nAdd x",
        True,
        False,
        {"allow_git_merge_messages": False},
        "subject \"Merge branch 'feature-x' into 'dev'\" is not 'type(scope)!: description'",
    ),
    (
        "Merge branch 'feature-x' into dev",
        True,
        True,
        {},
        "subject \"Merge branch 'feature-x' into dev\" is not 'type(scope)!: description'",
    ),
    # autosquash: never on strict branches, and a setting elsewhere
    ("fixup! feat: add x", False, True, {}, "fixup! commits are folded into the commit they fix before they land here"),
    (
        "squash! feat: add x",
        False,
        False,
        {"allow_autosquash_messages": False},
        "subject 'squash! feat: add x' is not 'type(scope)!: description'",
    ),
    # a revert names its commit; the setting turns the exception off
    (
        'Revert "feat: add x"',
        False,
        False,
        {},
        "a revert names the reverted commit in its body: 'This reverts commit <sha>.'",
    ),
    (
        f'Revert "feat: add x"\n\nThis reverts commit {SHA}.',
        False,
        False,
        {"allow_revert_messages": False},
        "subject 'Revert \"feat: add x\"' is not 'type(scope)!: description'",
    ),
]


@pytest.mark.parametrize(("message", "is_merge", "strict", "settings", "refusal"), REFUSED)
def test_refused(message: str, is_merge: bool, strict: bool, settings: dict[str, Any], refusal: str) -> None:
    assert "; ".join(problems(message, is_merge, strict, policy(**settings))) == refusal


def test_bytes_that_are_not_utf8_are_judged_not_crashed_on() -> None:
    # git keeps any bytes; the message reaches us with surrogate escapes, RE2 wants UTF-8
    p = policy(scopes="model|data")
    assert problems("Merge pull request #3 from o/caf\udce9\n\nx", True, False, p) == []
    [refusal] = problems("feat(caf\udce9): x", False, False, p)
    assert refusal == "scope 'caf\\udce9' does not match the pattern 'model|data'"


def test_every_problem_is_named_at_once() -> None:
    found = problems("Feat: " + "x" * 80 + "\nbody", False, False, DEFAULT)
    assert [p.split(" ")[0] for p in found] == ["type", "subject", "line"], found


def test_the_autosquash_hint_is_the_rebase() -> None:
    commit = Commit(SHA, "", (), "fixup! feat: add x", ())
    [violation] = commit_message.check(commit, "refs/heads/main", True, DEFAULT)
    assert violation.hint == "fold it into the commit it fixes before pushing: git rebase -i --autosquash origin/main"


# message, what `fix: true` makes of it (None: nothing safe to correct)
FIXES: list[tuple[str, Optional[str]]] = [
    ("Feat: add x", "feat: add x"),
    ("FIX(data)!: y\n\nbody", "fix(data)!: y\n\nbody"),
    ("feat(model) add dropout", "feat(model): add dropout"),
    ("feat:add x", "feat: add x"),
    ("fix: message\nno blank line", "fix: message\n\nno blank line"),
    ("Feat:add x\nbody", "feat: add x\n\nbody"),
    ("fix typo", None),  # no scope, no colon: 'fix' may be a verb; the refusal suggests, we don't rewrite
    ("feet: x", None),  # a guess, not a slip
    ("feat(): x", None),
    ("feat: fine\n\nbody", None),
    ("fixup! Feat: x", None),
]


@pytest.mark.parametrize(("message", "result"), FIXES)
def test_fixed(message: str, result: Optional[str]) -> None:
    p = policy(fix=True)
    assert fixed(message, p) == result
    if result is not None:
        assert problems(result, False, False, p) == []


def test_type_case_any_reads_the_type_whatever_its_case() -> None:
    from policy.commitmsg import commit_type

    assert commit_type("TASK: run lr sweep") == "task"  # task-type sees the same type
    assert fixed("Feat: x", policy(type_case="any", fix=True)) is None


# policy file text, the error
LOAD_ERRORS = [
    ("types: [feat, 2fa]", "rules.commit-message.types[1]: '2fa' cannot be a commit type"),
    ("types: [feat, 'build deps']", "rules.commit-message.types[1]: 'build deps' cannot be a commit type"),
    ("types: [feat, Fix]", "'Fix' can never match with type_case: lower: write 'fix', or type_case: any"),
    ("type_case: upper", "rules.commit-message.type_case: expected 'lower' or 'any', got 'upper'"),
    ("scopes: 'model|(data'", "rules.commit-message.scopes: not a valid RE2 regular expression: missing )"),
    ("scopes: [model, 'a(b']", "rules.commit-message.scopes[1]: expected a scope name (no parentheses)"),
    ("scopes: 3", "rules.commit-message.scopes: expected a list of scopes or an RE2 pattern, got int 3"),
    (
        "platform_merge_messages: {mine: '(?<=x)y'}",
        "rules.commit-message.platform_merge_messages.mine: not a valid RE2 regular expression",
    ),
    ("platform_merge_messages: {Mine: 'x'}", "platform_merge_messages.Mine: expected a lower-case name"),
    ("allow_revert_message: false", "unknown key (did you mean 'allow_revert_messages'?)"),
    ("fix: yes please", "rules.commit-message.fix: expected true or false"),
]


@pytest.mark.parametrize(("setting", "error"), LOAD_ERRORS)
def test_policy_file_errors(setting: str, error: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy_text(f"rules:\n  commit-message:\n    {setting}\n", ".branch-policy.yaml")
    assert error in str(caught.value)
    assert str(caught.value).startswith(".branch-policy.yaml:3: ")


def test_type_case_any_allows_listed_capitals() -> None:
    p = parse_policy_text("rules:\n  commit-message:\n    types: [feat, Fix]\n    type_case: any\n", "f")
    assert problems("fix: x", False, False, p) == [] and problems("FIX: x", False, False, p) == []
