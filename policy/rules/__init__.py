"""The rules, one module each, named by rule id (`task-scope` lives in `task_scope.py`).

Every rule is a pure function of facts (refs, commits, paths, file contents) returning
`Violation`s. None of them runs git; `policy.engine` gathers the facts and calls them.
"""

from __future__ import annotations

from policy.config import RULE_IDS

SUMMARIES = {
    "branch-name": "a pushed or committed-on branch matches one of the branch kinds",
    "protected-ref": "protected branches are never deleted nor rewritten; version tags never move",
    "main-direct-commit": "every commit on main's first-parent line is a merge, a squash merge or a version bump",
    "squash-merge": "a squash merge onto main names its source, and its tree is the real merge of it",
    "version-bump": "a version bump changes only VERSION in the main config, raised to a higher semver",
    "merge-source": "a branch accepts merges only from the kinds it lists; the source is proven from refs",
    "task-scope": "a task branch's own commits change only tasks/<its branch name>/",
    "task-base": "a task branch starts from main or a task branch, at the VERSION its name carries",
    "debug-leak": "nothing of a debug branch (commits, tasks/debug-*/ paths) reaches another branch",
    "commit-message": "subject is 'type(scope)!: description' with a known type, at most N characters",
    "task-type": "a task merge into main/dev has type task; a task commit changes only tasks/",
    "hotfix-size": "a hotfix branch changes at most N lines against where it started",
    "version-tag": "a version tag is annotated, on main, and equals VERSION in the main config there",
    "task-config": "every tasks/*/config.yaml parses and holds the required keys with the right types",
    "large-file": "large or model/data files are not added to git: they belong in DVC",
    "unsafe-path": "no path git would not check out (a '.', '..' or '.git' component)",
    "ref-namespace": "only branches, tags and the namespaces the policy allows are pushed; all are judged",
}
assert tuple(SUMMARIES) == RULE_IDS
