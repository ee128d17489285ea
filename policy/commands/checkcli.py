"""`policy check` through click: --help, and every command line that policy.commands.check's own
reader leaves to click (a typo, a missing value), so that click explains it."""

from __future__ import annotations

import sys
from typing import Optional

import click

from policy import report
from policy.ci import UsageError
from policy.commands.check import main, rule_ids


def _rules(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> Optional[str]:
    try:
        rule_ids(value)
    except UsageError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


@click.command()
@click.option("--ref", metavar="REF", help="Ref being updated: refs/heads/main, refs/tags/v0.2.0, or a branch name.")
@click.option("--old", metavar="REV", help="Where the ref was (40 zeros: a new ref).")
@click.option("--new", metavar="REV", help="Where the ref goes (40 zeros: a deletion).")
@click.option("--merge", "merge", metavar="SOURCE", help="Judge merging branch SOURCE (all its commits) ...")
@click.option("--into", metavar="TARGET", help="... into branch TARGET (a pull request).")
@click.option("--format", "fmt", type=click.Choice(report.FORMATS), default="text", show_default=True)
@click.option(
    "--rules", "rules", metavar="ID,ID", callback=_rules, help="Judge only these rules (default: all enabled ones)."
)
@click.option("--policy", "policy_file", metavar="FILE", help="Policy file to use instead of main's.")
@click.option("--remote", metavar="NAME", help="Remote whose branches are the server's (default: origin).")
def check(**options: Optional[str]) -> None:
    """The server's verdict, run in any clone.

    \b
    policy check --ref REF --old REV --new REV   a ref update (a push)
    policy check --merge SOURCE --into TARGET    a pull / merge request
    policy check                                 in CI: the event (GitHub Actions,
                                                 GitLab CI); elsewhere: the current
                                                 branch against its upstream

    Exit 0: accepted; 1: violations; 2: usage, repository or policy-file error.
    """
    names = {"fmt": "--format", "policy_file": "--policy"}
    sys.exit(main({names.get(key, f"--{key}"): value for key, value in options.items() if value is not None}))
