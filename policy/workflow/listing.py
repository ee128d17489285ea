"""`policy tasks`: every task run in one table, the seed's "summarise all task results" step.

A run is a task branch (local or remote-tracking) or a `tasks/<task-branch>/` folder on main or
HEAD (a run whose branch was deleted after merging). Cost is constant in the number of runs: one
`for-each-ref`, two `cat-file --batch` (folders and configs; then configs of folder-only runs)
and one `rev-list` for "merged into main".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional

from policy.report import escape
from policy.workflow.workspace import Workspace

HEADERS = ("BRANCH", "VERSION", "TIME", "SLUG", "MERGED", "WHERE")


@dataclass
class TaskRun:
    branch: str
    version: str
    time: str
    slug: str
    refs: dict[str, str] = field(default_factory=dict)  # "local" / remote name -> commit
    in_main: bool = False  # tasks/<branch>/ exists on main
    merged: bool = False
    config: Optional[dict[str, Any]] = None
    config_from: str = ""  # the commit (or rev) the config was read at

    @property
    def commit(self) -> str:
        return self.refs.get("local") or next(iter(self.refs.values()), "")


def tree_names(data: Optional[bytes]) -> list[str]:
    """Names of the sub-trees in a raw tree object (`<mode> <name>\\0<20-byte id>` entries)."""
    names, pos = [], 0
    while data and pos < len(data):
        space, nul = data.find(b" ", pos), data.find(b"\0", pos)
        if space < 0 or nul < space:
            break  # not a tree (tasks/ is a file there): no runs in it
        if data[pos:space] == b"40000":
            names.append(data[space + 1 : nul].decode("utf-8", "surrogateescape"))
        pos = nul + 21
    return names


def parse_config(data: Optional[bytes]) -> Optional[dict[str, Any]]:
    if data is None:
        return None
    import yaml

    try:
        loaded = yaml.load(data.decode("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (UnicodeDecodeError, yaml.YAMLError):
        return None
    return loaded if isinstance(loaded, dict) else None


def collect(ws: Workspace) -> list[TaskRun]:
    policy = ws.policy
    runs: dict[str, TaskRun] = {}
    mains: list[str] = []
    main_name = ws.branch_of_kind("main") or "main"

    def run_for(name: str) -> Optional[TaskRun]:
        if policy.kind_of(name) != "task":
            return None
        if name not in runs:
            version, time, slug = (policy.name_field(name, f) or "" for f in ("semver", "time", "slug"))
            runs[name] = TaskRun(name, version, time, slug)
        return runs[name]

    for ref in ws.git.refs("refs/heads/", "refs/remotes/"):
        if ref.type != "commit":
            continue
        if ref.name.startswith("refs/heads/"):
            where, name = "local", ref.name[len("refs/heads/") :]
        else:
            _, _, where, name = ref.name.split("/", 3)
        if name == main_name:
            mains.append(ref.sha)
        run = run_for(name)
        if run is not None:
            run.refs[where] = ref.sha

    tasks, config = policy.tasks_dir, _config_name(ws)
    main_rev = f"refs/heads/{main_name}" if ws.local(main_name) else (mains[0] if mains else main_name)
    specs = [f"{main_rev}:{tasks}", f"HEAD:{tasks}"] + [
        f"{r.commit}:{tasks}/{r.branch}/{config}" for r in runs.values()
    ]
    blobs = ws.read(*specs)
    on_main = set(tree_names(blobs[f"{main_rev}:{tasks}"]))
    for run in runs.values():
        run.config_from = run.commit
        run.config = parse_config(blobs.get(f"{run.commit}:{tasks}/{run.branch}/{config}"))

    folder_only: list[tuple[TaskRun, str]] = []
    for rev, names in ((main_rev, on_main), ("HEAD", tree_names(blobs[f"HEAD:{tasks}"]))):
        for name in names:
            if name not in runs and run_for(name) is not None:
                folder_only.append((runs[name], rev))
    more = ws.read(*[f"{rev}:{tasks}/{run.branch}/{config}" for run, rev in folder_only])
    for run, rev in folder_only:
        run.config_from = rev
        run.config = parse_config(more.get(f"{rev}:{tasks}/{run.branch}/{config}"))

    reached = ws.git.reachable({r.commit for r in runs.values() if r.commit}, mains) if mains else set()
    for run in runs.values():
        run.in_main = run.branch in on_main
        run.merged = run.in_main or (bool(run.commit) and run.commit in reached)
    return sorted(runs.values(), key=lambda r: (r.time, r.branch))


def _config_name(ws: Workspace) -> str:
    return ws.policy.main_config.rsplit("/", 1)[-1]


def default_keys(ws: Workspace, runs: list[TaskRun]) -> list[str]:
    """DEBUG and RANDOM_SEED, then the settings a run chooses (keys beyond the required
    bookkeeping ones, such as LEARNING_RATE or lr), in the order the configs list them."""
    required = list(ws.policy.settings("task-config")["required"])
    keys = [k for k in ("DEBUG", "RANDOM_SEED") if k in required]
    for run in runs:
        for key, value in (run.config or {}).items():
            if key not in required and key not in keys and not isinstance(value, (dict, list)):
                keys.append(str(key))
    return keys


def show_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def as_rows(runs: list[TaskRun], keys: list[str]) -> list[list[str]]:
    rows = []
    for run in runs:
        where = ",".join(run.refs) or "folder"
        values = [show_value(run.config[k]) if run.config and k in run.config else "-" for k in keys]
        rows.append([run.branch, run.version, run.time, run.slug, "yes" if run.merged else "no", where, *values])
    return rows


def render_text(runs: list[TaskRun], keys: list[str]) -> str:
    if not runs:
        return "no task runs (start one with: policy task start <slug>)"
    table = [list(HEADERS) + keys] + [[escape(cell) for cell in row] for row in as_rows(runs, keys)]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table)


def render_json(runs: list[TaskRun], keys: list[str]) -> str:
    return json.dumps(
        {
            "keys": keys,
            "tasks": [
                {
                    "branch": run.branch,
                    "version": run.version,
                    "time": run.time,
                    "slug": run.slug,
                    "merged": run.merged,
                    "in_main": run.in_main,
                    "refs": run.refs,
                    "commit": run.commit,
                    "values": {k: (run.config or {}).get(k) for k in keys},
                    "config": run.config,
                }
                for run in runs
            ],
        },
        indent=2,
        default=str,
    )
