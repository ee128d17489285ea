"""The platform's own rules, generated from the policy: GitHub rulesets and GitLab push rules,
protected branches and tags.

Where no pre-receive hook can run (GitHub, GitLab.com), these are what the platform refuses by
itself; everything else only the required CI check (`policy check`, the Action or the GitLab
template) enforces. `COVERAGE` says which is which, rule by rule, and the README shows it.

Every pattern is RE2, the dialect of both platforms, built from the policy (branch templates with
their placeholders, commit types, suffixes) and compiled with `re2` before it is written: an
export never hands a platform a pattern it would reject or read differently.
"""

from __future__ import annotations

import math
import re
from typing import Any, NamedTuple, Optional

from policy.config import Policy
from policy.errors import BranchPolicyError

CHECK_NAME = "branch-policy"  # the job of the README's workflow: the name its status check reports
# GitHub's built-in repository roles as bypass actors (actor_type RepositoryRole)
REPOSITORY_ROLES = {"admin": 5, "maintain": 2, "write": 4}
GITLAB_MAINTAINER, GITLAB_DEVELOPER = 40, 30
GITLAB_MAX_PATTERN = 511  # characters, GitLab's limit for a push-rule regex
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class ExportError(BranchPolicyError):
    """The policy cannot be written as the platform's rules (one line, exit 2)."""


class WorkflowRef(NamedTuple):
    """A workflow every change must pass, kept in a repository pull requests cannot edit."""

    repository_id: int
    path: str
    ref: str

    @classmethod
    def parse(cls, text: str) -> WorkflowRef:
        m = re.fullmatch(r"([0-9]+):([^@]+\.ya?ml)@(\S+)", text)
        if not m:
            raise ExportError(
                f"--workflow {text!r} is not REPOSITORY_ID:PATH@REF, "
                "e.g. 123456:.github/workflows/branch-policy.yml@main (the id: gh api repos/OWNER/REPO --jq .id)"
            )
        return cls(int(m.group(1)), m.group(2), m.group(3))


# --------------------------------------------------------------------------- patterns


def re2_checked(pattern: str, what: str) -> str:
    """`pattern` if RE2 compiles it; ExportError naming `what` otherwise."""
    import re2

    options = re2.Options()
    options.log_errors = False  # the one line below says it; RE2's own log would add two
    try:
        re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ExportError(f"{what}: {pattern!r} is not an RE2 pattern ({reason})") from None
    return pattern


def template_regex(template: str, placeholders: dict[str, str]) -> str:
    """`task-{semver}-{time}-{slug}` as an unanchored RE2 body: literal text escaped, each
    placeholder its regex in a non-capturing group."""
    out, pos = [], 0
    for m in _PLACEHOLDER.finditer(template):
        out.append(re.escape(template[pos : m.start()]))
        body = re2_checked(placeholders[m.group(1)], f"placeholders.{m.group(1)}")
        out.append(f"(?:{body})")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return "".join(out)


def template_glob(template: str) -> str:
    """The fnmatch pattern rulesets and protected refs take: each placeholder becomes `*`."""
    return _PLACEHOLDER.sub("*", template)


def branch_name_pattern(policy: Policy) -> str:
    """Every branch name the policy accepts: one of the kinds, whole, or an `also_allow` regex
    (which, like the engine's, need only match at the start)."""
    placeholders = policy.cfg["placeholders"]
    kinds = "|".join(template_regex(entry["pattern"], placeholders) for entry in policy.cfg["branches"].values())
    extra = "".join(
        f"|(?:{re2_checked(p, 'rules.branch-name.also_allow')})" for p in policy.settings("branch-name")["also_allow"]
    )
    return re2_checked(rf"\A(?:(?:{kinds})\z{extra})", "rules.branch-name")


def commit_message_pattern(policy: Policy, strict: bool, platforms: Optional[list[str]] = None) -> str:
    """A message whose subject is `type(scope)!: description` with a known type; where merges
    may keep git's own message (`strict` False and allow_git_merge_messages), that too, and the
    hosting platforms' merge messages the policy names (allow_platform_merge_messages; `platforms`:
    only these of them, where the platform's own limit on a pattern's length binds)."""
    settings = policy.settings("commit-message")
    types = "|".join(re.escape(t) for t in settings["types"])
    conventional = rf"(?:{types})(?:\([^()\r\n]*\))?!?: [^\n]*\S"
    alternatives = [conventional]
    if not strict and settings["allow_git_merge_messages"]:
        alternatives.append(
            r"Merge (?:(?:remote-tracking )?branch(?:es)?|tags?|commits?) '[^'\n]+'(?:(?:, | and )'[^'\n]+')*"
            r"(?: of \S+)?(?: into \S+)?"
        )
    whole = [rf"(?:{'|'.join(alternatives)})[ \t]*(?:\n|\z)"]
    if not strict and settings["allow_platform_merge_messages"]:  # each ends its own subject line
        whole += [
            f"(?:{pattern})"
            for name, pattern in settings["platform_merge_messages"].items()
            if platforms is None or name in platforms
        ]
    return re2_checked(rf"\A(?:{'|'.join(whole)})", "rules.commit-message")


def long_subject_pattern(policy: Policy) -> str:
    """A message whose subject is longer than max_subject_length (to refuse)."""
    limit = policy.settings("commit-message")["max_subject_length"]
    return re2_checked(rf"\A[^\n]{{{limit + 1}}}", "rules.commit-message.max_subject_length")


def suffix_pattern(policy: Policy) -> str:
    """A path ending in one of large-file's data/model suffixes, any case."""
    suffixes = "|".join(re.escape(s) for s in policy.suffixes)
    return re2_checked(rf"(?i)(?:{suffixes})\z", "rules.large-file.suffixes")


def size_in_mb(policy: Policy) -> int:
    """large-file's limit in whole MB, rounded up: both platforms count in MB."""
    return max(1, math.ceil(policy.max_bytes / (1024 * 1024)))


def _refs(policy: Policy, kinds: list[str]) -> list[str]:
    return [f"refs/heads/{template_glob(policy.pattern(k))}" for k in kinds if policy.has_kind(k)]


# --------------------------------------------------------------------------- GitHub


def github(
    policy: Policy,
    check: str = CHECK_NAME,
    bypass: str = "admin",
    workflow: Optional[WorkflowRef] = None,
    repository: Optional[str] = None,
) -> list[dict[str, Any]]:
    """Rulesets, each a body for `POST /repos/{owner}/{repo}/rulesets` (and for "Import a ruleset");
    with `workflow`, one more for `POST /orgs/{org}/rulesets`, since GitHub takes the rule that
    requires a workflow from another repository only in organization rulesets. It applies to
    `repository` (the repository's name in the organization).

    `bypass`: the repository role that may push to the protected branches directly (the
    workflow commands do: `policy release`, `policy task finish`); "none" for nobody. Such pushes
    skip the pull request and its check; the push workflow still judges them after they land."""
    if bypass != "none" and bypass not in REPOSITORY_ROLES:
        raise ExportError(f"--bypass {bypass!r}: one of {', '.join([*REPOSITORY_ROLES, 'none'])}")
    actors = [] if bypass == "none" else [
        {"actor_id": REPOSITORY_ROLES[bypass], "actor_type": "RepositoryRole", "bypass_mode": "always"}
    ]  # fmt: skip
    rulesets = []

    protected = _refs(policy, policy.protected_kinds)
    if protected:
        rules: list[dict[str, Any]] = []
        if policy.enabled("protected-ref"):
            rules += [{"type": "deletion"}, {"type": "non_fast_forward"}]
        rules.append({
            "type": "pull_request",
            "parameters": {
                # a merge commit keeps the source's commits, as main-direct-commit wants; GitHub's
                # squash and rebase buttons write commits the policy would call direct
                "allowed_merge_methods": ["merge"],
                "dismiss_stale_reviews_on_push": False,
                "require_code_owner_review": True,  # CODEOWNERS on .github/: workflow edits need an owner
                "require_last_push_approval": False,
                "required_approving_review_count": 0,
                "required_review_thread_resolution": False,
            },
        })  # fmt: skip
        rules.append({
            "type": "required_status_checks",
            "parameters": {
                "required_status_checks": [{"context": check}],
                # not strict: a task branch may not merge main into itself to catch up
                "strict_required_status_checks_policy": False,
            },
        })  # fmt: skip
        rulesets.append(_ruleset("protected branches", "branch", protected, [], rules, actors))
        if workflow:
            if not repository:
                raise ExportError("--workflow needs --repository NAME: the repository the organization ruleset is for")
            required = {"repository_id": workflow.repository_id, "path": workflow.path, "ref": workflow.ref}
            ruleset = _ruleset("required workflow", "branch", protected, [],
                               [{"type": "workflows", "parameters": {"workflows": [required]}}], [])  # fmt: skip
            ruleset["conditions"]["repository_name"] = {"include": [repository], "exclude": []}
            rulesets.append(ruleset)

    if policy.enabled("protected-ref") or policy.enabled("version-tag"):
        tags = [f"refs/tags/{template_glob(policy.cfg['version_tag'])}"]
        rulesets.append(_ruleset("version tags", "tag", tags, [], [{"type": "update"}, {"type": "deletion"}], []))

    strict = _refs(policy, policy.settings("commit-message")["strict_branches"])
    names: list[dict[str, Any]] = []
    if policy.enabled("branch-name"):
        names.append(_pattern_rule("branch_name_pattern", "branch names", branch_name_pattern(policy)))
    if policy.enabled("commit-message"):
        names.append(_pattern_rule("commit_message_pattern", "conventional subject, or git's merge message",
                                   commit_message_pattern(policy, strict=False)))  # fmt: skip
    if names:
        rulesets.append(_ruleset("branch names and commit messages", "branch", ["~ALL"], strict, names, []))
    if policy.enabled("commit-message"):
        if strict:
            rule = _pattern_rule("commit_message_pattern", "conventional subject, merges included",
                                 commit_message_pattern(policy, strict=True))  # fmt: skip
            rulesets.append(_ruleset("commit messages on strict branches", "branch", strict, [], [rule], []))
        rule = _pattern_rule("commit_message_pattern", "subject length", long_subject_pattern(policy), negate=True)
        rulesets.append(_ruleset("commit subject length", "branch", ["~ALL"], [], [rule], []))

    if policy.enabled("large-file"):
        files: list[dict[str, Any]] = [
            {"type": "max_file_size", "parameters": {"max_file_size": min(100, size_in_mb(policy))}}
        ]
        if policy.suffixes:
            extensions = [f"*{s}" for s in policy.suffixes]
            files.insert(0, {"type": "file_extension_restriction",
                             "parameters": {"restricted_file_extensions": extensions}})  # fmt: skip
        rulesets.append({"name": f"{CHECK_NAME}: files", "target": "push", "enforcement": "active",
                         "bypass_actors": [], "rules": files})  # fmt: skip
    return rulesets


def _ruleset(name: str, target: str, include: list[str], exclude: list[str], rules: list[dict[str, Any]],
             actors: list[dict[str, Any]]) -> dict[str, Any]:  # fmt: skip
    return {
        "name": f"{CHECK_NAME}: {name}",
        "target": target,
        "enforcement": "active",
        "bypass_actors": actors,
        "conditions": {"ref_name": {"include": include, "exclude": exclude}},
        "rules": rules,
    }


def _pattern_rule(kind: str, name: str, pattern: str, negate: bool = False) -> dict[str, Any]:
    return {"type": kind, "parameters": {"name": name, "negate": negate, "operator": "regex", "pattern": pattern}}


# --------------------------------------------------------------------------- GitLab


def gitlab(policy: Policy, ci_config: Optional[str] = None) -> dict[str, Any]:
    """The bodies of GitLab's API requests: `push_rule` (POST, or PUT to change, /projects/:id/push_rule),
    `protected_branches` and `protected_tags` (POST each to /projects/:id/protected_branches and
    /protected_tags) and `project` (PUT /projects/:id). GitLab's push rules apply to every branch
    alike: the strict message rule on main is left to the check."""
    push_rule: dict[str, Any] = {"deny_delete_tag": False}  # protected tags keep version tags; other tags may go
    if policy.enabled("commit-message"):
        push_rule["commit_message_regex"] = _gitlab_sized(
            commit_message_pattern(policy, strict=False, platforms=["gitlab"]), "commit-message"
        )
        push_rule["commit_message_negative_regex"] = _gitlab_sized(long_subject_pattern(policy), "commit-message")
    if policy.enabled("branch-name"):
        push_rule["branch_name_regex"] = _gitlab_sized(branch_name_pattern(policy), "branch-name")
    if policy.enabled("large-file"):
        if policy.suffixes:
            push_rule["file_name_regex"] = _gitlab_sized(suffix_pattern(policy), "large-file")
        push_rule["max_file_size"] = size_in_mb(policy)
    branches = [
        {"name": template_glob(policy.pattern(kind)), "push_access_level": GITLAB_MAINTAINER,
         "merge_access_level": GITLAB_DEVELOPER, "allow_force_push": False, "code_owner_approval_required": True}
        for kind in policy.protected_kinds if policy.has_kind(kind)
    ] if policy.enabled("protected-ref") else []  # fmt: skip
    tags = [{"name": template_glob(policy.cfg["version_tag"]), "create_access_level": GITLAB_MAINTAINER}]
    project: dict[str, Any] = {
        "only_allow_merge_if_pipeline_succeeds": True,  # the branch-policy job is then required
        "allow_merge_on_skipped_pipeline": False,
        "merge_method": "merge",  # merge commits keep the source's commits (main-direct-commit)
        "squash_option": "never",  # GitLab's squash writes no Squash-Merge record
        # the merge request's title as the merge commit's subject: `Merge branch 'x' into 'main'`
        # is not a conventional subject, which main (strict) wants even of merges
        "merge_commit_template": "%{title}\n\nSee merge request %{reference}",
    }
    if ci_config:
        if not re.fullmatch(r"[^@\s]+\.ya?ml@[\w.-]+(?:/[\w.-]+)+(?::[\w./-]+)?", ci_config):
            raise ExportError(
                f"--ci-config {ci_config!r} is not PATH@GROUP/PROJECT, e.g. research.gitlab-ci.yml@lab/ci-config"
            )
        project["ci_config_path"] = ci_config  # a merge request cannot edit a file in another project
    return {"push_rule": push_rule, "protected_branches": branches, "protected_tags": tags, "project": project}


def _gitlab_sized(pattern: str, rule: str) -> str:
    if len(pattern) > GITLAB_MAX_PATTERN:
        raise ExportError(
            f"rules.{rule}: the pattern is {len(pattern)} characters, more than GitLab's {GITLAB_MAX_PATTERN}; "
            "shorten the placeholders or branch patterns in .branch-policy.yaml"
        )
    return pattern


# --------------------------------------------------------------------------- what each platform enforces


class Coverage(NamedTuple):
    rule: str
    github: str  # what GitHub's rules refuse by themselves ("" = only the required check)
    gitlab: str


COVERAGE = (
    Coverage("branch-name", "branch_name_pattern", "branch_name_regex"),
    Coverage("protected-ref", "deletion, non_fast_forward (main, dev); update, deletion (version tags)",
             "protected branches (no force push; deletion only by maintainers in the UI); protected tags"),
    Coverage("main-direct-commit", "pull_request with merge commits only (admins may bypass)",
             "protected branch: maintainers push, merge requests with merge commits"),
    Coverage("commit-message", "commit_message_pattern (format, types, length; main strict)",
             "commit_message_regex, commit_message_negative_regex (format, types, length; same on every branch)"),
    Coverage("large-file", "file_extension_restriction, max_file_size in whole MB (push rulesets)",
             "file_name_regex, max_file_size in whole MB"),
    Coverage("squash-merge", "", ""),
    Coverage("version-bump", "", ""),
    Coverage("merge-source", "", ""),
    Coverage("task-scope", "", ""),
    Coverage("task-base", "", ""),
    Coverage("debug-leak", "", ""),
    Coverage("task-type", "", ""),
    Coverage("hotfix-size", "", ""),
    Coverage("version-tag", "update, deletion only (annotated, on main, VERSION: the check)", "protected tags only"),
    Coverage("task-config", "", ""),
    Coverage("unsafe-path", "", ""),
    Coverage("ref-namespace", "", ""),
)  # fmt: skip
