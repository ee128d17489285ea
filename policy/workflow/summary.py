"""`policy report`: the summary data of every run, and a Typst document that renders it.

Written into one folder (default `reports/`):

- `runs.csv`, `runs.json`: the results table of every run (`policy tasks --format csv/json`);
- `charts/<chart>.csv`: for each chart-data file the runs recorded (the policy's `tasks.charts`,
  default `charts/*.csv` in the run's folder: an x column such as `step`, then one column per
  series), all runs lined up in long format: `run,<x>,series,value`, numbers only;
- `report.json`: what the document needs to know (columns, charts, counts, when);
- `report.typ`: reads those files with `csv()` / `json()` and draws the tables and the charts with
  built-in Typst only (no package, so it compiles offline); `report.pdf` when the `typst` Python
  package is installed (`pip install 'branch-policy[report]'`).

The folder belongs on dev: main takes only merges and a task branch only its own folder, and the
report spans runs (see the README). Nothing here reads the work tree: the data comes from git.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import posixpath
import re
from collections.abc import Sequence
from typing import Optional

from policy.workflow.errors import WorkflowError
from policy.workflow.listing import Run
from policy.workflow.table import Columns, render_csv, render_json

_GLOB_CHARS = re.compile(r"[*?\[]")


def chart_name(path: str, globs: Sequence[str]) -> str:
    """`charts/loss.csv` -> `loss.csv`: the path after the literal folders of the glob it matched."""
    for glob in globs:
        parts = glob.split("/")
        literal = 0
        while literal < len(parts) - 1 and not _GLOB_CHARS.search(parts[literal]):
            literal += 1
        prefix = "/".join(parts[:literal])
        if prefix and path.startswith(prefix + "/"):
            return path[len(prefix) + 1 :]
    return path


def parse_chart(data: bytes) -> tuple[str, list[str], list[tuple[float, list[Optional[float]]]]]:
    """(x name, series names, rows) of a chart-data CSV; rows whose x is not a number are skipped,
    and so are cells that are not finite numbers. A ValueError says what is wrong."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or len(rows[0]) < 2:
        raise ValueError("expected a header row: an x column (such as step), then one column per series")
    head = [h.strip() for h in rows[0]]
    out = []
    for row in rows[1:]:
        x = _number(row[0]) if row else None
        if x is None:
            continue
        out.append((x, [_number(row[i]) if i < len(row) else None for i in range(1, len(head))]))
    return head[0] or "x", head[1:], out


def _number(text: str) -> Optional[float]:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _fmt(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def write(
    out_dir: str, runs: Sequence[Run], columns: Columns, globs: Sequence[str], repository: str, tasks_dir: str
) -> tuple[list[str], list[str]]:
    """Write the summary files and report.typ; (files written, notes on charts that were skipped)."""
    try:
        os.makedirs(os.path.join(out_dir, "charts"), exist_ok=True)
    except OSError as exc:
        raise WorkflowError(f"cannot write the report into {out_dir}: {exc.strerror}") from None
    written: list[str] = []
    notes: list[str] = []

    def put(name: str, text: str) -> None:
        path = os.path.join(out_dir, name)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="") as handle:
                handle.write(text if text.endswith("\n") else text + "\n")
        except OSError as exc:
            raise WorkflowError(f"cannot write {path}: {exc.strerror}") from None
        written.append(path)

    put("runs.csv", render_csv(runs, columns))
    put("runs.json", render_json(runs, columns))

    charts: dict[str, dict[str, object]] = {}
    lines: dict[str, list[str]] = {}
    for run in runs:
        for path, data in run.charts.items():
            try:
                x_name, series, rows = parse_chart(data)
            except ValueError as exc:
                notes.append(f"{tasks_dir}/{run.branch}/{path}: {exc}; left out of the report")
                continue
            name = chart_name(path, globs)
            if not name.endswith(".csv"):
                name += ".csv"
            chart = charts.setdefault(name, {"name": name[: -len(".csv")], "file": f"charts/{name}", "x": x_name,
                                             "series": [], "runs": []})  # fmt: skip
            for s in series:
                if s not in chart["series"]:  # type: ignore[operator]
                    chart["series"].append(s)  # type: ignore[attr-defined]
            chart["runs"].append(run.name)  # type: ignore[attr-defined]
            out = lines.setdefault(name, [])
            for i, s in enumerate(series):
                label, column = f"{_csv(run.name)},", f",{_csv(s)},"
                out.extend(f"{label}{_fmt(x)}{column}{_fmt(y)}" for x, ys in rows if (y := ys[i]) is not None)
    for name, chart in charts.items():
        put(posixpath.join("charts", name), "\n".join([f"run,{_csv(str(chart['x']))},series,value", *lines[name]]))

    counts: dict[str, int] = {}
    for run in runs:
        counts[run.status] = counts.get(run.status, 0) + 1
    meta = {
        "title": f"Task report: {repository}",
        "repository": repository,
        "generated": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "runs": len(runs),
        "statuses": counts,
        "metrics": columns.metrics,
        "settings": columns.settings,
        "charts": list(charts.values()),
    }
    put("report.json", json.dumps(meta, indent=2))
    put("report.typ", TEMPLATE)
    return written, notes


def _csv(text: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([text])
    return out.getvalue()


def compile_pdf(out_dir: str) -> str:
    """report.typ -> report.pdf with the `typst` package; a WorkflowError says how to get it."""
    try:
        import typst  # type: ignore[import-not-found]
    except ImportError:
        raise WorkflowError(
            "the typst package is not installed: pip install 'branch-policy[report]' "
            f"(or compile it yourself: typst compile {os.path.join(out_dir, 'report.typ')})"
        ) from None
    source, pdf = os.path.join(out_dir, "report.typ"), os.path.join(out_dir, "report.pdf")
    try:
        typst.compile(source, output=pdf, root=out_dir)
    except Exception as exc:  # typst raises its own error type with the compiler's diagnostics
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WorkflowError(f"typst could not compile {source}: {first}") from None
    return pdf


# The document. It only reads the files written beside it, so it can be edited and compiled again
# (`typst compile report.typ`); `policy report` writes it anew each time.
TEMPLATE = r"""// report.typ -- written by `policy report`; compile with: typst compile report.typ
// Reads runs.csv, report.json and charts/*.csv beside it; built-in Typst only (>= 0.13).
#let meta = json("report.json")
#let table-rows = csv("runs.csv")
#let head = table-rows.at(0)
#let rows = table-rows.slice(1)
#let palette = (
  rgb("#1f77b4"), rgb("#ff7f0e"), rgb("#2ca02c"), rgb("#d62728"), rgb("#9467bd"), rgb("#8c564b"),
  rgb("#e377c2"), rgb("#7f7f7f"), rgb("#bcbd22"), rgb("#17becf"),
)
#let dashes = ("solid", "dashed", "dotted", "dash-dotted", "densely-dashed", "loosely-dotted")

#set document(title: meta.title)
#set page(paper: "a4", flipped: true, margin: 1.5cm, numbering: "1 / 1")
#set text(size: 9pt)
#show heading: set block(above: 1.2em, below: 0.6em)

// a number as text, to four significant digits; anything else as it is
#let number-re = regex("^-?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$")
#let fmt(cell) = {
  if cell.match(number-re) == none { return cell }
  let v = float(cell)
  if v == 0 or calc.abs(v) >= 1000 or v == calc.round(v) { return str(calc.round(v, digits: 2)) }
  let digits = calc.min(12, calc.max(0, 3 - int(calc.floor(calc.log(calc.abs(v))))))
  str(calc.round(v, digits: digits))
}
#let col(name) = head.position(h => h == name)
#let status-name = (open: "open", dev: "merged into dev", main: "merged into main", debug: "debug")

#let run-table(keys) = {
  let picked = ("name", "version", "time", "status", ..keys).map(col).filter(i => i != none)
  table(
    columns: picked.len(),
    stroke: (x, y) => if y == 0 { (bottom: 0.6pt) } else { (bottom: 0.2pt + luma(220)) },
    align: (x, y) => if x >= 4 { right } else { left },
    table.header(..picked.map(i => text(weight: "bold", head.at(i)))),
    ..rows.map(r => picked.map(i => {
      if head.at(i) == "status" { status-name.at(r.at(i), default: r.at(i)) } else { fmt(r.at(i)) }
    })).flatten(),
  )
}

// one chart: a frame, ticks, one line per run and series (colour: run; dash: series)
#let chart(spec) = {
  let data = csv(spec.file).slice(1)
  if data.len() == 0 { return [no data] }
  let xs = data.map(r => float(r.at(1)))
  let ys = data.map(r => float(r.at(3)))
  let (x0, x1) = (xs.fold(xs.at(0), calc.min), xs.fold(xs.at(0), calc.max))
  let (y0, y1) = (ys.fold(ys.at(0), calc.min), ys.fold(ys.at(0), calc.max))
  if x1 == x0 { x1 = x0 + 1 }
  if y1 == y0 { y1 = y0 + 1 }
  let (w, h) = (16cm, 4.6cm)
  let px(x) = (x - x0) / (x1 - x0) * w
  let py(y) = h - (y - y0) / (y1 - y0) * h
  let run-index = (:)
  for (i, r) in spec.runs.enumerate() { run-index.insert(r, i) }
  let series-index = (:)
  for (i, s) in spec.series.enumerate() { series-index.insert(s, i) }
  let stroke-of(run, series) = (
    paint: palette.at(calc.rem(run-index.at(run, default: 0), palette.len())),
    thickness: 1pt,
    dash: dashes.at(calc.rem(series-index.at(series, default: 0), dashes.len())),
  )
  // consecutive rows of one run and series make one line (report.py writes them so)
  let lines = ()
  let key = none
  let points = ()
  for r in data {
    let k = (r.at(0), r.at(2))
    if k != key {
      if points.len() > 0 { lines.push((key, points)) }
      key = k
      points = ()
    }
    points.push((px(float(r.at(1))), py(float(r.at(3)))))
  }
  if points.len() > 0 { lines.push((key, points)) }
  let ticks = 4
  block(breakable: false, {
    text(weight: "bold", spec.name)
    v(0.3em)
    grid(columns: (auto, w), column-gutter: 4pt, row-gutter: 4pt,
      box(height: h, width: 1.4cm, {
        for i in range(ticks + 1) {
          let y = y0 + (y1 - y0) * i / ticks
          place(right + top, dy: py(y) - 0.5em, text(size: 7pt, fmt(str(y))))
        }
      }),
      box(width: w, height: h, stroke: 0.5pt + luma(120), clip: true, {
        for i in range(1, ticks) {
          place(line(start: (0pt, h * i / ticks), end: (w, h * i / ticks), stroke: 0.3pt + luma(225)))
        }
        for ((run, series), pts) in lines {
          if pts.len() == 1 {
            place(dx: pts.at(0).at(0) - 1.5pt, dy: pts.at(0).at(1) - 1.5pt,
              circle(radius: 1.5pt, fill: stroke-of(run, series).paint))
          } else {
            place(curve(stroke: stroke-of(run, series), curve.move(pts.at(0)), ..pts.slice(1).map(p => curve.line(p))))
          }
        }
      }),
      [],
      box(width: w, height: 1em, {
        for i in range(ticks + 1) {
          let x = x0 + (x1 - x0) * i / ticks
          place(dx: px(x) - (if i == ticks { 1.2cm } else if i == 0 { 0cm } else { 0.6cm }), box(width: 1.2cm,
            align(if i == ticks { right } else if i == 0 { left } else { center }, text(size: 7pt, fmt(str(x))))))
        }
        place(center + top, dy: 1.1em, text(size: 8pt, spec.x))
      }),
    )
    v(1.4em)
    let shown = spec.runs.slice(0, calc.min(spec.runs.len(), 24))
    text(size: 8pt, {
      for (i, r) in shown.enumerate() {
        box(inset: (right: 8pt), [#box(line(length: 12pt, stroke: 1.5pt + palette.at(calc.rem(i, palette.len())))) #r])
      }
      if spec.runs.len() > shown.len() [ and #(spec.runs.len() - shown.len()) more runs]
      if spec.series.len() > 1 {
        linebreak()
        for (i, s) in spec.series.enumerate() {
          let dash = dashes.at(calc.rem(i, dashes.len()))
          box(inset: (right: 8pt), [#box(line(length: 16pt, stroke: (thickness: 1pt, dash: dash))) #s])
        }
      }
    })
  })
}

#align(center, text(size: 16pt, weight: "bold", meta.title))
#align(center, [#meta.runs runs
  (#meta.statuses.pairs().map(((s, n)) => [#n #status-name.at(s, default: s)]).join(", ")),
  generated #meta.generated])

= Results
#run-table(meta.metrics)

#if meta.settings.len() > 0 [
  = Settings that differ from main's config
  #run-table(meta.settings)
]

#if meta.charts.len() > 0 [
  = Charts
  #for spec in meta.charts { chart(spec); v(1em) }
]
"""
