"""policy export github|gitlab: the platform's own rules from the policy, as API request bodies."""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Optional

import click

from policy.config import PolicyError


def _policy(policy_file: Optional[str]) -> Any:
    """The policy as `policy rules` reads it: --policy FILE, else main's file (the remote's main
    first), else the defaults."""
    from policy.gitio import Git, GitError
    from policy.loading import client_refs, load, read_file
    from policy.verdict import default_remote

    try:
        git = Git()
        return load(git, client_refs(default_remote(git)), explicit=policy_file, worktree=os.getcwd())
    except GitError:  # not in a repository: the file given, or the defaults
        from policy.config import Policy

        return read_file(policy_file) if policy_file else Policy.defaults()


def _write(out: Optional[str], files: dict[str, Any], whole: Any, apply: list[str]) -> None:
    """Everything as one JSON document on stdout, or one file per request in OUT with the
    commands that send them."""
    if out is None:
        click.echo(json.dumps(whole, indent=2))
        return
    os.makedirs(out, exist_ok=True)
    for name, body in files.items():
        with open(os.path.join(out, name), "w", encoding="utf-8") as handle:
            handle.write(json.dumps(body, indent=2) + "\n")
    click.echo(f"wrote {len(files)} file{'s' if len(files) != 1 else ''} to {out}; to apply them:", err=True)
    for line in apply:
        click.echo(f"  {line}", err=True)


def _fail(exc: Exception) -> None:
    click.echo(f"branch-policy: {exc}", err=True)
    sys.exit(2)


@click.group()
def export() -> None:
    """Write the platform's own rules (GitHub rulesets, GitLab push rules and protected refs)
    generated from the policy. What they cannot express, only the required CI check enforces."""


@export.command()
@click.option("--policy", "policy_file", metavar="FILE", help="Policy file to export instead of main's.")
@click.option("--out", metavar="DIR", help="Write one ruleset per file into DIR instead of a JSON list on stdout.")
@click.option("--check", "check", default="branch-policy", show_default=True, metavar="NAME",
              help="The status check to require: the name of the job that runs the action.")  # fmt: skip
@click.option("--bypass", default="admin", show_default=True, type=click.Choice(["admin", "maintain", "write", "none"]),
              help="Repository role allowed to push to main/dev directly (policy release, task finish).")  # fmt: skip
@click.option("--workflow", metavar="REPO_ID:PATH@REF",
              help="Also require this workflow, kept in a repository pull requests cannot edit "
                   "(an organization ruleset).")  # fmt: skip
@click.option("--repository", metavar="NAME", help="With --workflow: this repository's name in the organization.")
def github(
    policy_file: Optional[str], out: Optional[str], check: str, bypass: str, workflow: Optional[str],
    repository: Optional[str],
) -> None:  # fmt: skip
    """GitHub rulesets: bodies for POST /repos/{owner}/{repo}/rulesets, or "Import a ruleset"."""
    from policy import export as ex

    try:
        rulesets = ex.github(_policy(policy_file), check=check, bypass=bypass, repository=repository,
                             workflow=ex.WorkflowRef.parse(workflow) if workflow else None)  # fmt: skip
    except (PolicyError, ex.ExportError) as exc:
        _fail(exc)
        return
    files = {f"{r['name'].split(': ', 1)[1].replace(' ', '-')}.json": r for r in rulesets}
    apply = [
        f"gh api --method POST {'orgs/{owner}' if n == 'required-workflow.json' else 'repos/{owner}/{repo}'}/rulesets "
        f"--input {os.path.join(out or '.', n)}"
        for n in files
    ]
    _write(out, files, rulesets, apply)


@export.command()
@click.option("--policy", "policy_file", metavar="FILE", help="Policy file to export instead of main's.")
@click.option("--out", metavar="DIR", help="Write one request body per file into DIR instead of one JSON on stdout.")
@click.option("--ci-config", metavar="PATH@GROUP/PROJECT",
              help="Run the pipeline from this file of another project, which merge requests cannot edit.")  # fmt: skip
def gitlab(policy_file: Optional[str], out: Optional[str], ci_config: Optional[str]) -> None:
    """GitLab push rule, protected branches and tags, and project settings: API request bodies."""
    from policy import export as ex

    try:
        payload = ex.gitlab(_policy(policy_file), ci_config=ci_config)
    except (PolicyError, ex.ExportError) as exc:
        _fail(exc)
        return
    files: dict[str, Any] = {"push_rule.json": payload["push_rule"], "project.json": payload["project"]}
    for entry in payload["protected_branches"]:
        files[f"protected_branch-{entry['name'].replace('*', 'x')}.json"] = entry
    for entry in payload["protected_tags"]:
        files[f"protected_tag-{entry['name'].replace('*', 'x')}.json"] = entry
    base = out or "."
    api = 'curl --fail --header "PRIVATE-TOKEN: $TOKEN" --header "Content-Type: application/json"'
    project = "$GITLAB/api/v4/projects/$PROJECT"
    apply = [f"{api} --request POST --data @{base}/push_rule.json {project}/push_rule   # PUT once one exists",
             f"{api} --request PUT --data @{base}/project.json {project}"]  # fmt: skip
    apply += [f"{api} --request POST --data @{os.path.join(base, n)} {project}/protected_branches"
              for n in files if n.startswith("protected_branch-")]  # fmt: skip
    apply += [f"{api} --request POST --data @{os.path.join(base, n)} {project}/protected_tags"
              for n in files if n.startswith("protected_tag-")]  # fmt: skip
    _write(out, files, payload, apply)
