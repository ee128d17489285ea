"""`policy task start` / `policy debug start`: the script that starts run branches.

A run branch is named from the policy's pattern (`task-{semver}-{time}-{slug}`), with the VERSION
of the main config at the commit it starts from (what task-base checks), and its first commit
copies the main task folder to `tasks/<branch>/` (what task-scope allows it to change).
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
from typing import Optional

from policy.naming import Semver
from policy.workflow import yamledit
from policy.workflow.errors import WorkflowError
from policy.workflow.messages import fit, subject_limit
from policy.workflow.steps import Plan, WriteFile, git
from policy.workflow.workspace import Workspace

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
DEBUG_KEY = "DEBUG"
DEBUG_NOTE = "debug run: never merged anywhere (the server refuses it: debug-leak)"


def stamp(now: Optional[dt.datetime] = None) -> str:
    """Local time as YYYYMMDD-HHMMSS: the run's start, readable and sortable in branch lists."""
    return (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")


def run_name(ws: Workspace, kind: str, version: Semver, time: str, slug: str) -> str:
    """The branch name for a run, refused with a clear reason when it would not be a `kind` name."""
    policy = ws.policy
    placeholders = policy.cfg["placeholders"]
    for field, value in (("slug", slug), ("time", time)):
        pattern = placeholders.get(field)
        if pattern and not re.fullmatch(pattern, value):
            example = "my-run-1" if field == "slug" else "20261126-120000"
            raise WorkflowError(f"{field} {value!r} is not valid: it must match {pattern} (e.g. {example})")
    values = {"semver": str(version), "time": time, "slug": slug}
    template = policy.pattern(kind)
    unknown = [name for name in _PLACEHOLDER.findall(template) if name not in values]
    if unknown:
        raise WorkflowError(f"the {kind} pattern {template!r} needs {{{unknown[0]}}}, which start cannot fill in")
    name = _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
    if policy.kind_of(name) != kind:
        raise WorkflowError(f"{name!r} would not be a {kind} branch name (pattern {template}): choose another slug")
    return name


def pick_base(ws: Workspace, kind: str, base: Optional[str]) -> str:
    """task: main unless --from names another allowed origin (a task branch); debug: the
    current branch when it is main or dev, else --from."""
    policy = ws.policy
    origins = list(policy.settings("task-base")["from"]) if kind == "task" else ["main", "dev"]
    origins = [k for k in origins if policy.has_kind(k)]
    if base is None:
        current = ws.current_branch()
        if kind == "debug" and current is not None and policy.kind_of(current) in origins:
            base = current
        elif kind == "debug":
            raise WorkflowError(f"debug runs start from {' or '.join(origins)}: check one out, or pass --from dev")
        else:
            base = ws.require_branch_of_kind("main")
    if policy.kind_of(base) not in origins:
        raise WorkflowError(f"a {kind} run starts from {' or '.join(origins)}, and {base} is not one")
    if ws.local(base) is None:
        raise WorkflowError(f"there is no local branch {base} (git fetch, then git branch {base} origin/{base})")
    return base


def start_plan(ws: Workspace, kind: str, slug: str, base: Optional[str] = None, time: Optional[str] = None) -> Plan:
    """Checks first (clean tree, valid and unused name, folders), then the steps."""
    policy = ws.policy
    if not policy.has_kind(kind):
        raise WorkflowError(f"the policy ({policy.source}) has no {kind} branches")
    base = pick_base(ws, kind, base)
    ws.require_clean(f"starting a {kind} run")
    rev = f"refs/heads/{base}"
    version, _ = ws.version_at(rev)
    name = run_name(ws, kind, version, time or stamp(), slug)
    if ws.local(name) or ws.remote_branches_named(name):
        raise WorkflowError(f"branch {name} exists already: pick another slug, or wait a second for a new time")
    source = posixpath.dirname(policy.main_config)  # tasks/main
    folder = f"{policy.tasks_dir}/{name}"
    config = f"{folder}/{posixpath.basename(policy.main_config)}"
    found = ws.read(f"{rev}:{source}", f"{rev}:{folder}", f"{rev}:{policy.main_config}")
    if found[f"{rev}:{source}"] is None:
        raise WorkflowError(f"{base} has no {source}/ to copy")
    if found[f"{rev}:{folder}"] is not None:
        raise WorkflowError(f"{base} already has {folder}/: pick another slug")

    plan = Plan(touches=[f"refs/heads/{name}"], created=[name], result=name)
    plan.push = [f"refs/heads/{name}", f"refs/heads/{base}"]
    plan.add(git("checkout", "-b", name, base), git("read-tree", f"--prefix={folder}/", "-u", f"HEAD:{source}"))
    limit = subject_limit(policy)
    if kind == "debug":
        edit = yamledit.set_value(
            found[f"{rev}:{policy.main_config}"] or b"", DEBUG_KEY, lambda _: "true", True, config
        )
        plan.add(WriteFile(config, edit.text, f"{edit.before or '(no ' + DEBUG_KEY + ')'} -> {edit.after}"))
        plan.add(git("add", "--", config))
        subject = fit("chore(debug): ", [f"start debug run {slug}", "start a debug run"], limit)
    else:
        subject = fit("task: ", [f"start {slug}", "start a task run"], limit)
    body = f"Copies {source}/ at {policy.version_key} {version} from {base} to {folder}/."
    plan.add(git("commit", "-m", subject, "-m", body))
    if kind == "debug":
        plan.add(git("config", f"branch.{name}.description", DEBUG_NOTE))
    return plan
