"""policy tasks / report / run: the runs' results, their summary and report, and running a run.

A thin click layer over policy.workflow.listing (what the runs are), .table (the results table),
.summary (the report) and .runner (policy run). Exit 0: done; 2: a problem to fix first (an
unknown key, no run folder, typst missing, ...), said in one line; `policy run` exits with the
script's own status.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from typing import Any, Callable, NoReturn, Optional

import click

from policy.gitio import GitError
from policy.workflow.errors import WorkflowError
from policy.workflow.workspace import Workspace


def _fail(exc: Exception) -> NoReturn:
    click.echo(f"branch-policy: {exc}", err=True)
    sys.exit(getattr(exc, "code", 2))


def _guard(body: Callable[[], Any]) -> Any:
    try:
        return body()
    except (WorkflowError, GitError) as exc:
        _fail(exc)


def _width(option: Optional[int]) -> int:
    """--width, else the terminal's width, else $COLUMNS; 0 (no limit) into a pipe or a file."""
    if option is not None:
        return max(option, 0)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() else 0


def _problems(runs: Sequence[Any]) -> None:
    for run in runs:
        for problem in run.problems:
            click.echo(f"branch-policy: {problem}: left out", err=True)


FILTERS = [
    click.option("--where", "wheres", multiple=True, metavar="KEY=VALUE",
                 help="Only runs where KEY=VALUE (also !=, <, <=, >, >=; numbers compare as numbers). Repeatable."),
    click.option("--version", "version", metavar="X.Y.Z", help="Only runs of this core version."),
    click.option("--merged", is_flag=True, help="Only runs merged into dev or main."),
    click.option("--all", "debug", is_flag=True, help="Debug runs too (status debug)."),
]  # fmt: skip


def filters(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(FILTERS):
        func = option(func)
    return func


@click.command()
@click.option(
    "-k",
    "--key",
    "keys",
    multiple=True,
    metavar="KEY",
    help="Show these settings or metrics (repeatable) instead of every metric and the settings that differ.",
)
@click.option("--sort", metavar="KEY", help="Sort by this metric, setting or column (numbers by value).")
@click.option("--desc", is_flag=True, help="Sort from the largest down.")
@filters
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "csv", "markdown"]), default="text", show_default=True
)
@click.option(
    "--width",
    type=int,
    metavar="N",
    help="Fit the text table in N characters (default: the terminal's width; 0: no limit).",
)
def tasks(keys: tuple[str, ...], sort: Optional[str], desc: bool, wheres: tuple[str, ...], version: Optional[str],
          merged: bool, debug: bool, fmt: str, width: Optional[int]) -> None:  # fmt: skip
    """The results of every task run, like `dvc exp show`: one row per run (task branches, local
    and remote, and tasks/<run>/ folders on main, dev or HEAD), read from git objects, so commit
    what a run wrote to see it.

    \b
    NAME     the run's slug (slug@time when two runs share one)
    STATUS   open, dev (merged into dev), main (merged into main), debug (with --all)
    then     the metrics the run recorded (tasks.metrics in the policy: metrics.json, metrics.yaml;
             nested keys as val.acc), and the settings of its config.yaml that differ from
             tasks/main/config.yaml as its VERSION was released
    """
    from policy.workflow import listing, table

    def body() -> None:
        ws = Workspace()
        runs = listing.collect(ws, debug=debug)
        chosen = table.select(runs, wheres, version, merged, sort, desc)
        columns = table.choose_columns(runs, keys)
        _problems(chosen)
        if fmt == "json":
            click.echo(table.render_json(chosen, columns))
        elif fmt == "csv":
            click.echo(table.render_csv(chosen, columns))
        elif fmt == "markdown":
            click.echo(table.render_markdown(chosen, columns))
        else:
            keep = [k for k in [sort, *(table.where(w)[0] for w in wheres)] if k]
            text, note = table.render_text(chosen, columns, _width(width), keep)
            if runs and not chosen:
                text = f"no run matches (of {len(runs)} runs)"
            click.echo(text)
            if note:
                click.echo(f"note: {note}", err=True)

    _guard(body)


@click.command()
@click.option(
    "--out",
    "out_dir",
    default="reports",
    show_default=True,
    metavar="DIR",
    help="The folder to write into (relative to the repository root).",
)
@filters
@click.option(
    "--pdf/--no-pdf",
    "pdf",
    default=None,
    help="Compile report.pdf with the typst package (default: when it is installed).",
)
def report(out_dir: str, wheres: tuple[str, ...], version: Optional[str], merged: bool, debug: bool,
           pdf: Optional[bool]) -> None:  # fmt: skip
    """Write the summary of every run into DIR: runs.csv and runs.json (the results table), one
    charts/<chart>.csv per chart-data file the runs recorded (tasks.charts in the policy, default
    charts/*.csv in the run folder) with all runs lined up, and report.typ, a Typst document that
    reads them and draws the tables and charts (built-in Typst only); report.pdf when the typst
    package is installed. Commit the folder on dev: main takes only merges, a task branch only its
    own folder."""
    from policy.workflow import listing, summary, table

    def body() -> None:
        ws = Workspace()
        runs = listing.collect(ws, debug=debug, charts=True)
        chosen = table.select(runs, wheres, version, merged)
        columns = table.choose_columns(chosen, ())
        _problems(chosen)
        target = out_dir if os.path.isabs(out_dir) else os.path.join(ws.top, out_dir)
        globs = list(ws.policy.cfg["tasks"]["charts"])
        repository = os.path.basename(ws.top)
        written, notes = summary.write(target, chosen, columns, globs, repository, ws.policy.tasks_dir)
        for note in notes:
            click.echo(f"branch-policy: {note}", err=True)
        if pdf is not False:
            try:
                written.append(summary.compile_pdf(target))
            except WorkflowError as exc:
                if pdf:
                    raise
                click.echo(f"note: no report.pdf: {exc}", err=True)
        for path in written:
            click.echo(os.path.relpath(path))
        kind = ws.policy.kind_of(ws.current_branch() or "")
        if kind not in ("dev", "feature") and os.path.commonpath([ws.top, target]) == ws.top:
            click.echo(
                f"note: commit {os.path.relpath(target, ws.top)}/ on dev (git checkout dev), not on "
                f"{kind or 'this branch'}: main takes only merges, a task branch only its own folder",
                err=True,
            )

    _guard(body)


class _RunCommand(click.Command):
    """Keeps the raw arguments, to tell `policy run -- ARGS` (train.py with ARGS) from `policy run S`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["raw_args"] = list(args)
        return super().parse_args(ctx, args)


@click.command(cls=_RunCommand, context_settings={"ignore_unknown_options": True})
@click.argument("script", required=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def run(script: Optional[str], args: tuple[str, ...]) -> None:
    """Run SCRIPT (default train.py) of the current run: tasks/<branch>/ on a task or debug branch,
    tasks/main/ on main. It runs in the run's folder (what it writes stays there, as task-scope
    wants) with `--config <its config.yaml>` then ARGS, and POLICY_RUN_CONFIG in its environment;
    its output goes to the terminal and to task.log there, and run.json records the start, end,
    exit status and commit. Exits with the script's status.

    \b
    policy run                     tasks/<branch>/train.py --config tasks/<branch>/config.yaml
    policy run eval.py -- --fast   tasks/<branch>/eval.py --config ... --fast
    policy run -- --epochs 3       train.py with --epochs 3
    """
    from policy.workflow import runner

    raw = click.get_current_context().meta.get("raw_args", [])
    given = [script, *args] if script is not None else list(args)
    before = raw[: raw.index("--")] if "--" in raw else raw
    if script is not None and (script.startswith("-") or ("--" in raw and not [a for a in before if a[:1] != "-"])):
        script, rest = None, given  # `policy run -- ARGS` (or options only): all of it is for train.py
    else:
        rest = given[1:]

    def body() -> int:
        ws = Workspace()
        target = runner.plan(ws, script, rest, lambda line: click.echo(line, err=True))
        return runner.execute(ws, target)

    sys.exit(_guard(body))
