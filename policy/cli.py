"""The `policy` command. Subcommands load lazily; `policy hook ...` skips click entirely, since
it runs on every commit and push, and so does a well-formed `policy check ...`."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, Optional

COMMANDS = {
    "check": (
        "policy.commands.checkcli",
        "check",
        "The server's verdict for a ref update, a pull request or the CI event.",
    ),
    "hook": (
        "policy.commands.hookcli",
        "hook",
        "Git hook entry points (pre-commit, commit-msg, pre-push, pre-receive, ...).",
    ),
    "install": (
        "policy.commands.install",
        "install",
        "Install the client hooks, or the server hook into a bare repository.",
    ),
    "warm": (
        "policy.commands.warmcli",
        "warm",
        "The server's warm judge of a bare repository: policy warm start / stop / status BARE_GIT_DIR.",
    ),
    "doctor": (
        "policy.commands.doctor",
        "doctor",
        "Check a server's or a clone's set-up (hooks, interpreter, policy, git) and say what to fix.",
    ),
    "init": (
        "policy.commands.rules",
        "init",
        "Write .branch-policy.yaml (and on main tasks/main/config.yaml) with the defaults.",
    ),
    "rules": ("policy.commands.rules", "rules", "List the rules, their ids and current settings."),
    "task": ("policy.commands.workflow", "task", "Task runs: policy task start SLUG / policy task finish [BRANCH]."),
    "debug": ("policy.commands.workflow", "debug", "Debug runs: policy debug start SLUG (never merged)."),
    "merge": (
        "policy.commands.workflow",
        "merge",
        "Merge an allowed source into main or dev the way the policy wants.",
    ),
    "release": ("policy.commands.workflow", "release", "Raise VERSION, tag vX.Y.Z, merge main back into dev."),
    "tasks": ("policy.commands.results", "tasks", "The runs' results: status, settings that differ, metrics."),
    "report": ("policy.commands.results", "report", "Summary data of every run and a Typst report (report.typ)."),
    "run": ("policy.commands.results", "run", "Run the current run's script (train.py), logged in its folder."),
    "export": (
        "policy.commands.export",
        "export",
        "Write the platform's own rules from the policy: policy export github / policy export gitlab.",
    ),
    "demo": (
        "policy.commands.demo",
        "demo",
        "Replay the development flow against a real server with the hook installed.",
    ),
}


def _app() -> Any:
    import importlib

    import click

    class LazyGroup(click.Group):
        def list_commands(self, ctx: click.Context) -> list[str]:
            return sorted([*COMMANDS, *super().list_commands(ctx)])

        def get_command(self, ctx: click.Context, name: str) -> Optional[click.Command]:
            if name in COMMANDS:
                module, attr, _ = COMMANDS[name]
                return getattr(importlib.import_module(module), attr)
            return super().get_command(ctx, name)

        def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
            rows = [(name, help_text) for name, (_, _, help_text) in sorted(COMMANDS.items())]
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    from policy import __version__

    @click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, prog_name="branch-policy")
    def policy() -> None:
        """branch-policy: the branch model of a research repository, enforced by one engine as
        pre-commit hooks, a server pre-receive hook and a CI check."""

    return policy


def main(argv: Optional[list[str]] = None) -> int:
    from policy.errors import guarded

    args = sys.argv[1:] if argv is None else argv
    return guarded(lambda: _main(args))


def _main(args: list[str]) -> int:
    if args[:1] == ["hook"] and not {"-h", "--help"} & set(args[1:]):
        from policy.commands.hook import HOOKS, dispatch

        if args[1:2] and args[1] in HOOKS:  # else click says what there is (policy.commands.hookcli)
            return dispatch(args[1:])
    if args[:1] == ["check"]:
        from policy.commands import check

        options = check.parse_argv(args[1:])
        if options is not None:
            return check.main(options)
    try:
        _app().main(args=args, prog_name="policy", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def entry() -> None:
    """The `policy` script and `python -m policy`: main(), then exit without tearing the
    interpreter down. Freeing each object of a long walk one by one takes longer than the
    operating system takes to reclaim the process (~15 ms after 10k commits); every git process
    has been waited for by then, and the output is flushed here."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`policy check | head`)
            stream.flush()
    os._exit(code)
