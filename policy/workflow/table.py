"""The results table of `policy tasks`: columns, filters, sorting, and text / json / csv / markdown.

Columns are NAME, VERSION, TIME, STATUS, then the metrics the runs recorded, then the settings that
differ from main's config (or exactly the keys named with -k). A key is a metric name (`val.acc`),
a setting (`LEARNING_RATE`, `optimizer.lr`) or one of the fixed columns; a metric shadows a setting
of the same name. A key no run has is an error that lists the keys there are.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable, Optional

from policy.report import escape
from policy.workflow.errors import WorkflowError
from policy.workflow.listing import Run

FIXED = ("name", "version", "time", "status")
EXTRA = ("branch", "commit", "kind")  # usable in --where / --sort / -k, not shown by default
CELL_MAX = 24  # text cells longer than this are cut (json, csv, markdown give them whole)
_WHERE = re.compile(r"^(?P<key>[^<>=!]+?)\s*(?P<op>==|=|!=|<=|>=|<|>)\s*(?P<value>.*)$", re.DOTALL)


def fixed_value(run: Run, key: str) -> Any:
    return {"name": run.name, "version": run.version, "time": run.time, "status": run.status,
            "branch": run.branch, "commit": run.commit, "kind": run.kind}[key]  # fmt: skip


def value(run: Run, key: str) -> Any:
    """The run's value for a key (None when it has none): fixed column, metric, then setting."""
    if key in FIXED or key in EXTRA:
        return fixed_value(run, key)
    if key in run.metrics:
        return run.metrics[key]
    return run.settings.get(key)


def show(item: Any) -> str:
    if item is None:
        return "-"
    if isinstance(item, str):
        return item
    if isinstance(item, float) and item.is_integer() and abs(item) < 1e15:
        return repr(item)
    return json.dumps(item, default=str)


def number(item: Any) -> Optional[float]:
    if isinstance(item, bool) or not isinstance(item, (int, float)):
        return None
    return float(item) if math.isfinite(item) else None


@dataclass
class Columns:
    metrics: list[str]
    settings: list[str]

    @property
    def keys(self) -> list[str]:
        return [*self.metrics, *self.settings]


def known_keys(runs: Sequence[Run]) -> tuple[list[str], list[str]]:
    """(metric keys, setting keys) over all runs, in the order the runs list them."""
    metrics: dict[str, None] = {}
    settings: dict[str, None] = {}
    for run in runs:
        metrics.update(dict.fromkeys(run.metrics))
        settings.update(dict.fromkeys(run.settings))
    return list(metrics), [k for k in settings if k not in metrics]


def check_key(key: str, runs: Sequence[Run], option: str) -> str:
    metrics, settings = known_keys(runs)
    if key in FIXED or key in EXTRA or key in metrics or key in settings:
        return key
    known = [*FIXED, *metrics, *settings]
    close = [k for k in known if key.lower() in k.lower() or k.lower() in key.lower()] or difflib.get_close_matches(
        key, known, n=1, cutoff=0.5
    )
    hint = f"did you mean {close[0]!r}? " if close else ""
    shown = ", ".join(known[:40]) + (f", ... ({len(known)} in all)" if len(known) > 40 else "")
    raise WorkflowError(f"{option} {key}: no run has this key ({hint}known keys: {shown})")


def choose_columns(runs: Sequence[Run], keys: Sequence[str]) -> Columns:
    """-k KEY...: exactly those; else every metric, and the settings that differ from main's config."""
    metrics, settings = known_keys(runs)
    if keys:
        chosen = [check_key(k, runs, "-k") for k in keys]
        settings_chosen = [k for k in chosen if k in settings and k not in metrics]
        return Columns([k for k in chosen if k not in settings_chosen], settings_chosen)
    differ: dict[str, None] = {}
    for run in runs:
        differ.update(dict.fromkeys(k for k in run.differs if k not in metrics))
    return Columns(metrics, [k for k in settings if k in differ])


def where(spec: str) -> tuple[str, Callable[[Any], bool]]:
    """`KEY=VALUE` (also !=, <, <=, >, >=): numbers compare as numbers, anything else as text."""
    m = _WHERE.match(spec)
    if not m:
        raise WorkflowError(f"--where {spec!r}: expected KEY=VALUE (or KEY!=VALUE, KEY<VALUE, KEY>=VALUE, ...)")
    key, op, wanted = m.group("key").strip(), m.group("op"), m.group("value").strip()
    try:
        target: Optional[float] = float(wanted)
    except ValueError:
        target = None

    def test(item: Any) -> bool:
        got = number(item)
        left: Any = got if got is not None and target is not None else show(item)
        right: Any = target if got is not None and target is not None else wanted
        if op in ("=", "=="):
            return bool(left == right)
        if op == "!=":
            return bool(left != right)
        if item is None:
            return False
        return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]

    return key, test


def select(
    runs: Sequence[Run],
    wheres: Sequence[str] = (),
    version: Optional[str] = None,
    merged: bool = False,
    sort: Optional[str] = None,
    descending: bool = False,
) -> list[Run]:
    """The runs that pass every filter, sorted (numbers by value, before text; missing last)."""
    tests = [where(spec) for spec in wheres]
    for key, _ in tests:
        check_key(key, runs, "--where")
    if sort:
        check_key(sort, runs, "--sort")
    chosen = [
        run
        for run in runs
        if (version is None or run.version == version)
        and (not merged or run.status in ("dev", "main"))
        and all(test(value(run, key)) for key, test in tests)
    ]
    if sort:
        present = [r for r in chosen if value(r, sort) is not None]
        missing = [r for r in chosen if value(r, sort) is None]

        def order(run: Run) -> tuple[int, float, str]:
            item = value(run, sort)
            got = number(item)
            return (0, got, "") if got is not None else (1, 0.0, show(item))

        present.sort(key=order, reverse=descending)
        chosen = present + missing
    return chosen


# --------------------------------------------------------------------------- output


def header(columns: Columns) -> list[str]:
    return [*(k.upper() for k in FIXED), *columns.keys]


def cells(run: Run, columns: Columns) -> list[str]:
    return [show(fixed_value(run, k)) for k in FIXED] + [show(value(run, k)) for k in columns.keys]


def render_json(runs: Sequence[Run], columns: Columns) -> str:
    return json.dumps(
        {"columns": columns.keys, "metrics": columns.metrics, "settings": columns.settings,
         "runs": [as_record(run, columns) for run in runs]},
        indent=2, default=str,
    )  # fmt: skip


def as_record(run: Run, columns: Columns) -> dict[str, Any]:
    return {
        "name": run.name,
        "branch": run.branch,
        "kind": run.kind,
        "version": run.version,
        "time": run.time,
        "status": run.status,
        "commit": run.commit,
        "refs": run.refs,
        "read_at": run.read_at,
        "values": {k: value(run, k) for k in columns.keys},
        "metrics": run.metrics,
        "settings": run.settings,
        "differs": run.differs,
        "metric_files": run.metric_files,
        "problems": run.problems,
    }


def render_csv(runs: Sequence[Run], columns: Columns) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*FIXED, "branch", "commit", *columns.keys])
    for run in runs:
        writer.writerow([*(show(fixed_value(run, k)) for k in (*FIXED, "branch", "commit")),
                         *("" if value(run, k) is None else show(value(run, k)) for k in columns.keys)])  # fmt: skip
    return out.getvalue().rstrip("\n")


def render_markdown(runs: Sequence[Run], columns: Columns) -> str:
    def row(items: Sequence[str]) -> str:
        return "| " + " | ".join(escape(i).replace("|", "\\|") for i in items) + " |"

    head = header(columns)
    lines = [row(head), "|" + "|".join("---" for _ in head) + "|"]
    lines += [row(cells(run, columns)) for run in runs]
    return "\n".join(lines)


def render_text(runs: Sequence[Run], columns: Columns, width: int = 0, keep: Sequence[str] = ()) -> tuple[str, str]:
    """The table, at most `width` characters a line (0: no limit), and a note of what was left
    out or cut. Metrics and settings beyond the width are dropped from the right, except `keep`
    (the --sort and --where keys); then long cells are cut; never a row wrapped in two."""
    if not runs:
        return "no task runs (start one with: policy task start <slug>)", ""
    keys = list(columns.keys)
    rows = [header(columns)] + [cells(run, columns) for run in runs]
    table = [[c if c.isprintable() else escape(c) for c in row] for row in rows]
    cut = False
    for row in table[1:]:
        for i, cell in enumerate(row):
            if len(cell) > CELL_MAX:
                row[i], cut = cell[: CELL_MAX - 1] + "…", True
    dropped: list[str] = []

    def too_wide() -> bool:
        return (
            bool(width)
            and sum(max(len(r[i]) for r in table) for i in range(len(table[0]))) + 2 * (len(table[0]) - 1) > width
        )

    while too_wide():
        victims = [i for i, k in enumerate(keys) if k not in keep]
        if not victims:
            break
        i = victims[-1]
        dropped.append(keys.pop(i))
        for row in table:
            del row[len(FIXED) + i]
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
    if width:
        long = [line for line in lines if len(line) > width]
        lines = [line if len(line) <= width else line[: width - 1] + "…" for line in lines]
        cut = cut or bool(long)
    notes = []
    if dropped:
        names = ", ".join(reversed(dropped))
        notes.append(
            f"{len(dropped)} column{'s' if len(dropped) > 1 else ''} left out to fit {width} characters ({names}): "
            "choose columns with -k KEY, or see them all with --width 0 or --format csv"
        )
    if cut:
        notes.append(f"long values are cut to {CELL_MAX} characters (…): --format json or csv shows them whole")
    return "\n".join(lines), "\n".join(notes)
