"""`policy run [SCRIPT] [-- ARGS]`: run the current run's script, the wrapper that picks what to run
from the branch name.

On a task or debug branch it runs `tasks/<branch>/<SCRIPT>` (default `train.py`; on main,
`tasks/main/`), **in the run's folder**, so that every relative path the script writes (metrics,
charts, checkpoints) lands inside that folder: the only place task-scope lets a task branch change.
The core code stays importable: the repository root is put on PYTHONPATH. The script gets its config
both ways: `--config <abs path of config.yaml>` first on its command line, and `POLICY_RUN_CONFIG`
in its environment (with `POLICY_RUN_DIR`, `POLICY_RUN_NAME` and `POLICY_REPO_ROOT`).

Its output is streamed to the terminal and appended to `task.log` in the run folder, between a
start and an end line; `run.json` there keeps one record per invocation: script, arguments, start,
end, seconds, exit status, commit, and whether tracked files outside the folder had changes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import posixpath
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import Any, Callable, Optional

from policy.workflow.errors import WorkflowError
from policy.workflow.workspace import Workspace

LOG_NAME = "task.log"
RECORD_NAME = "run.json"
DEFAULT_SCRIPT = "train.py"


class Target:
    """What `policy run` is about to run, all checked."""

    def __init__(self, folder: str, script: str, config: str, branch: str, argv: list[str]) -> None:
        self.folder = folder  # absolute
        self.script = script  # relative to the folder
        self.config = config  # absolute
        self.branch = branch
        self.argv = argv


def plan(ws: Workspace, script: Optional[str], args: Sequence[str], warn: Callable[[str], None]) -> Target:
    policy = ws.policy
    branch = ws.current_branch()
    if branch is None:
        raise WorkflowError("HEAD is detached: check out the run's branch first (git checkout <task branch>)")
    kind = policy.kind_of(branch)
    if kind == "main":
        folder = posixpath.dirname(policy.main_config)
    elif kind in ("task", "debug"):
        folder = f"{policy.tasks_dir}/{branch}"
    else:
        raise WorkflowError(
            f"{branch} is not a run branch: policy run runs tasks/<branch>/ of a task or debug branch "
            f"(start one: policy task start <slug>, or policy debug start <slug>)"
        )
    source = posixpath.dirname(policy.main_config)
    where = os.path.join(ws.top, *folder.split("/"))
    if not os.path.isdir(where):
        raise WorkflowError(
            f"{branch} has no run folder {folder}/: make it from {source}/ and commit it: "
            f"mkdir -p {folder} && cp -R {source}/. {folder}/ && git add {folder} && "
            f'git commit -m "task: copy {source} to the run folder"'
        )
    script = script or DEFAULT_SCRIPT
    parts = script.split("/")
    if script.startswith("/") or ".." in parts:
        raise WorkflowError(f"{script}: name a script inside {folder}/ (such as {DEFAULT_SCRIPT})")
    path = os.path.join(where, *parts)
    if not os.path.isfile(path):
        scripts = sorted(n for n in os.listdir(where) if n.endswith((".py", ".sh")))
        listed = f" (its scripts: {', '.join(scripts)})" if scripts else ""
        raise WorkflowError(f"there is no {folder}/{script}{listed}")
    config_name = posixpath.basename(policy.main_config)
    config = os.path.join(where, config_name)
    if not os.path.isfile(config):
        raise WorkflowError(f"there is no {folder}/{config_name}: copy it from {source}/ ({policy.main_config})")
    _remind(kind or "", folder, config, config_name, warn)
    executable = os.access(path, os.X_OK)
    if script.endswith(".py") and not executable:
        argv = [sys.executable, "-u", path]
    elif executable:
        argv = [path]
    else:
        raise WorkflowError(f"{folder}/{script} is not executable: chmod +x {folder}/{script} (or run a .py script)")
    return Target(where, script, config, branch, [*argv, "--config", config, *args])


def _remind(kind: str, folder: str, config: str, name: str, warn: Callable[[str], None]) -> None:
    import yaml

    try:
        with open(config, encoding="utf-8") as handle:
            loaded = yaml.safe_load(handle)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        warn(f"branch-policy: {folder}/{name} does not parse as YAML (the task-config rule will refuse it)")
        return
    debug = loaded.get("DEBUG") if isinstance(loaded, dict) else None
    if kind == "debug" and debug is not True:
        warn(
            f"branch-policy: DEBUG is not true in {folder}/{name}, on a debug branch: set DEBUG: true there "
            "(policy debug start <slug> makes debug branches with it set)"
        )
    elif kind == "task" and debug is True:
        warn(
            f"branch-policy: DEBUG is true in {folder}/{name}, on a task branch: a debug run belongs on a "
            "debug branch (policy debug start <slug>), a task run's results are real ones"
        )


def execute(ws: Workspace, target: Target, out: Any = None) -> int:
    """Run it, stream its output to `out` (stdout) and task.log, record it in run.json; its exit status."""
    out = out or sys.stdout.buffer
    commit = ws.sha("HEAD") or ""
    folder_rel = os.path.relpath(target.folder, ws.top).replace(os.sep, "/")
    outside = [p for p in ws.changed_paths() if not p.startswith(folder_rel + "/")]
    env = dict(os.environ)
    env.update(
        POLICY_RUN_CONFIG=target.config,
        POLICY_RUN_DIR=target.folder,
        POLICY_RUN_NAME=target.branch,
        POLICY_REPO_ROOT=ws.top,
        PYTHONUNBUFFERED="1",
        PYTHONPATH=os.pathsep.join(p for p in (ws.top, env.get("PYTHONPATH", "")) if p),
    )
    start = dt.datetime.now(dt.timezone.utc).astimezone()
    shown = " ".join([target.script, *target.argv[target.argv.index("--config") :]])
    log_path = os.path.join(target.folder, LOG_NAME)
    with open(log_path, "ab") as log:
        log.write(f"# policy run {shown}\n# start {start.isoformat(timespec='seconds')} at {commit[:12]}\n".encode())
        log.flush()
        try:
            proc = subprocess.Popen(
                target.argv, cwd=target.folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
        except OSError as exc:
            raise WorkflowError(f"cannot start {target.script}: {exc.strerror}") from None
        assert proc.stdout
        try:
            while True:
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                out.write(chunk)
                out.flush()
                log.write(chunk)
            code = proc.wait()
        except KeyboardInterrupt:  # the script got the same Ctrl-C: wait for it, record what happened
            proc.send_signal(signal.SIGINT)
            code = proc.wait()
        end = dt.datetime.now(dt.timezone.utc).astimezone()
        seconds = round((end - start).total_seconds(), 3)
        status = code if code >= 0 else 128 - code
        log.write(f"# end {end.isoformat(timespec='seconds')}: exit {status} after {seconds} s\n".encode())
    _record(
        os.path.join(target.folder, RECORD_NAME),
        {
            "script": target.script,
            "args": target.argv[target.argv.index("--config") + 2 :],
            "start": start.isoformat(timespec="seconds"),
            "end": end.isoformat(timespec="seconds"),
            "seconds": seconds,
            "exit": status,
            "commit": commit,
            "uncommitted_outside": outside[:20],
        },
    )
    return status


def _record(path: str, entry: dict[str, Any]) -> None:
    """Append one invocation to run.json ({"runs": [...]}, newest last); a file that is not ours is kept aside."""
    runs: list[Any] = []
    if os.path.exists(path):
        try:
            with open(path, encoding="utf-8") as handle:
                loaded = json.load(handle)
            runs = list(loaded["runs"])
        except (OSError, ValueError, KeyError, TypeError):
            os.replace(path, path + ".bad")
    runs.append(entry)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"runs": runs}, handle, indent=2)
        handle.write("\n")
