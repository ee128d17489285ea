"""policy rules / policy init."""

from __future__ import annotations

import json
import os
import sys
from typing import Optional

import click

from policy.config import POLICY_FILE, RULE_IDS, PolicyError
from policy.gitio import Git, GitError
from policy.loading import client_refs, load
from policy.rules import SUMMARIES
from policy.template import TEMPLATE
from policy.verdict import default_remote


@click.command()
@click.option("--policy", "policy_file", metavar="FILE", help="Policy file to show instead of main's.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rules(policy_file: Optional[str], fmt: str) -> None:
    """List the rules: id, what it checks, whether it is on, and its settings."""
    try:
        try:
            git = Git()
            policy = load(git, client_refs(default_remote(git)), explicit=policy_file, worktree=os.getcwd())
        except GitError:  # not in a repository: show the file given, or the defaults
            from policy.config import Policy
            from policy.loading import read_file

            policy = read_file(policy_file) if policy_file else Policy.defaults()
    except PolicyError as exc:
        click.echo(f"branch-policy: {exc}", err=True)
        sys.exit(2)
    if fmt == "json":
        click.echo(json.dumps({"source": policy.source, "rules": {i: policy.settings(i) for i in RULE_IDS}}, indent=2))
        return
    click.echo(f"policy: {policy.source}")
    width = max(len(i) for i in RULE_IDS)
    for rule_id in RULE_IDS:
        settings = {k: v for k, v in policy.settings(rule_id).items() if k != "enabled"}
        state = "on " if policy.settings(rule_id)["enabled"] else "off"
        shown = "  " + json.dumps(settings) if settings else ""
        click.echo(f"{rule_id:<{width}}  {state}  {SUMMARIES[rule_id]}{shown}")
    click.echo("\nbranch kinds (pattern <- accepted merge sources):")
    for kind, entry in policy.cfg["branches"].items():
        click.echo(f"  {kind:<8} {entry['pattern']:<30} <- {', '.join(entry['merges_from']) or 'nothing'}")


@click.command()
@click.option("--force", is_flag=True, help="Overwrite an existing .branch-policy.yaml (kept as .orig).")
def init(force: bool) -> None:
    """Write .branch-policy.yaml with every default, commented, at the repository root; on main, also a
    sample tasks/main/config.yaml when there is none."""
    try:
        root = Git().run("rev-parse", "--show-toplevel").decode().strip()
    except GitError:
        root = os.getcwd()
    path = os.path.join(root, POLICY_FILE)
    if os.path.exists(path):
        if not force:
            click.echo(f"branch-policy: {path} exists; not overwriting it (use --force to replace it)", err=True)
            sys.exit(2)
        os.replace(path, path + ".orig")
        click.echo(f"kept the old file as {path}.orig")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(TEMPLATE)
    click.echo(f"wrote {path}")
    from policy.workflow.sample import offer_main_config

    click.echo(offer_main_config(root))
    click.echo(
        "commit them as main's first commit in a new repository (the push that creates main takes it), "
        "otherwise through dev and a merge into main: the server reads the policy from main."
    )
