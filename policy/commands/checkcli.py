"""`policy check` through click: --help, and every command line that policy.commands.check's own
reader leaves to click (a typo, a missing value), so that click explains it."""

from __future__ import annotations

import sys
from typing import Callable, Optional

import click

from policy.ci import UsageError
from policy.commands.check import OPTIONS, main, rule_ids


def _rules(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> Optional[str]:
    try:
        rule_ids(value)
    except UsageError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


def _options(command: Callable[..., None]) -> Callable[..., None]:
    """click's options, from the one table of them (policy.commands.check.OPTIONS)."""
    for option in reversed(OPTIONS):
        kind = click.Choice(option.choices) if option.choices else None
        command = click.option(
            option.name, option.name[2:], type=kind, metavar=None if kind else option.metavar, help=option.help,
            default=option.default, show_default=option.default is not None,
            callback=_rules if option.name == "--rules" else None,
        )(command)  # fmt: skip
    return command


@click.command()
@_options
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
    sys.exit(main({f"--{key}": value for key, value in options.items() if value is not None}))
