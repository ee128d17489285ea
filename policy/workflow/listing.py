"""Every run of the repository, read from git objects only: what `policy tasks` and `policy report` show.

A run is a task branch (local or remote-tracking), a debug branch (with `debug=True`), or a
`tasks/<run>/` folder on main, dev or HEAD (a run whose branch was deleted after merging). For each:
its status (open, merged into dev, merged into main, debug), its config, the settings that differ
from `tasks/main/config.yaml` of its version, the metrics it recorded (files matched by the policy's
`tasks.metrics`) and, for the report, its chart data (`tasks.charts`).

Nothing is checked out, and the cost in git processes is constant whatever the number of runs: one
`for-each-ref`, one `log` of main's config, two `rev-list` (contained in main, in dev), and one
`cat-file --batch-command` that reads trees level by level and then every file in one batch.
"""

from __future__ import annotations

import fnmatch
import json
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Optional

from policy import flatyaml
from policy.gitio import CatFile, decode
from policy.naming import parse_semver
from policy.workflow.workspace import Workspace

OPEN, DEV, MAIN, DEBUG = "open", "dev", "main", "debug"
STATUSES = (OPEN, DEV, MAIN, DEBUG)


@dataclass
class Run:
    branch: str  # the branch name, which is also the folder name under tasks/
    kind: str  # task or debug
    version: str
    time: str
    slug: str
    refs: dict[str, str] = field(default_factory=dict)  # "local" / remote name -> commit
    read_at: str = ""  # the commit or branch the folder was read at
    status: str = OPEN
    config: Optional[dict[str, Any]] = None
    settings: dict[str, Any] = field(default_factory=dict)  # the config, flattened (a.b)
    differs: list[str] = field(default_factory=list)  # settings that differ from main's config
    metrics: dict[str, Any] = field(default_factory=dict)  # flattened, from the metrics files
    metric_files: list[str] = field(default_factory=list)
    charts: dict[str, bytes] = field(default_factory=dict)  # path in the run folder -> contents
    problems: list[str] = field(default_factory=list)  # files that could not be read, one line each
    name: str = ""  # the short name shown: the slug, with the time when two runs share a slug

    @property
    def commit(self) -> str:
        return self.refs.get("local") or next(iter(self.refs.values()), "")

    def folder(self, tasks_dir: str) -> str:
        return f"{tasks_dir}/{self.branch}"


class Entry(NamedTuple):
    mode: bytes
    name: str
    sha: str

    @property
    def is_tree(self) -> bool:
        return self.mode == b"40000"

    @property
    def is_file(self) -> bool:
        return self.mode in (b"100644", b"100755")


def tree_entries(data: Optional[bytes]) -> list[Entry]:
    """The entries of a raw tree object (`<mode> <name>\\0<20-byte id>`); none for a non-tree."""
    entries, pos = [], 0
    while data and pos < len(data):
        space, nul = data.find(b" ", pos), data.find(b"\0", pos)
        if space < 0 or nul < space or nul + 21 > len(data):
            return []  # not a tree (tasks/ is a file there): nothing in it
        entries.append(Entry(data[pos:space], decode(data[space + 1 : nul]), data[nul + 1 : nul + 21].hex()))
        pos = nul + 21
    return entries


def tree_names(data: Optional[bytes]) -> list[str]:
    """Names of the sub-trees in a raw tree object."""
    return [e.name for e in tree_entries(data) if e.is_tree]


def find_files(session: CatFile, roots: dict[str, str], globs: list[str]) -> dict[str, dict[str, str]]:
    """For each root tree (a key -> an object spec), the files matching `globs` (relative paths,
    one shell glob per `/`-separated part) as path -> blob id. One batch per tree level, so the
    number of round trips is the depth of the globs, whatever the number of roots."""
    patterns = [_compiled(g) for g in globs]
    found: dict[str, dict[str, str]] = {key: {} for key in roots}
    frontier: list[tuple[str, str, tuple[str, ...]]] = [(key, spec, ()) for key, spec in roots.items()]
    while frontier:
        trees = session.read(spec for _, spec, _ in frontier)
        deeper = []
        for key, spec, parts in frontier:
            for entry in tree_entries(trees[spec]):
                path = (*parts, entry.name)
                matching = [p for p in patterns if len(p) >= len(path) and _matches(path, p)]
                if entry.is_file and any(len(p) == len(path) for p in matching):
                    found[key]["/".join(path)] = entry.sha
                elif entry.is_tree and any(len(p) > len(path) for p in matching):
                    deeper.append((key, entry.sha, path))
        frontier = deeper
    return found


def _compiled(glob: str) -> tuple[re.Pattern[str], ...]:
    """A glob as one compiled shell pattern per `/`-separated part (fnmatch, case-sensitive)."""
    return tuple(re.compile(fnmatch.translate(part)) for part in glob.split("/"))


def _matches(path: tuple[str, ...], pattern: tuple[re.Pattern[str], ...]) -> bool:
    return all(part.match(name) is not None for name, part in zip(path, pattern))


def matches(path: str, glob: str) -> bool:
    parts, pattern = tuple(path.split("/")), _compiled(glob)
    return len(parts) == len(pattern) and _matches(parts, pattern)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys: {"val": {"acc": 0.9}} -> {"val.acc": 0.9}."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{prefix}{key}"
            if isinstance(item, dict) and item:
                out.update(flatten(item, name + "."))
            else:
                out[name] = item
    return out


def parse_mapping(data: bytes, path: str) -> tuple[Optional[dict[str, Any]], str]:
    """A JSON or YAML file holding a mapping (by its suffix; YAML otherwise), or the problem."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, f"{path}: not UTF-8 text"
    if path.endswith(".json"):
        try:
            loaded = json.loads(text)
        except ValueError as exc:
            return None, f"{path}: not valid JSON ({exc})"
    else:
        import yaml

        try:  # flat KEY: value files (the usual config) without PyYAML's constructor, same values
            loaded = flatyaml.load(text)
            if loaded is None:
                loaded = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            return None, f"{path}{f':{mark.line + 1}' if mark else ''}: not valid YAML"
    if not isinstance(loaded, dict):
        return None, f"{path}: expected a mapping of names to values"
    return loaded, ""


def collect(ws: Workspace, debug: bool = False, charts: bool = False) -> list[Run]:
    """Every run, oldest first (by the time in its name, then its name)."""
    policy = ws.policy
    tasks_dir = policy.tasks_dir
    config_name = posixpath.basename(policy.main_config)
    kinds = ("task", "debug") if debug else ("task",)
    runs: dict[str, Run] = {}
    main_name = ws.branch_of_kind("main") or "main"
    dev_name = ws.branch_of_kind("dev") if policy.has_kind("dev") else None
    tips: dict[str, list[str]] = {MAIN: [], DEV: []}

    def run_for(name: str) -> Optional[Run]:
        kind = policy.kind_of(name)
        if kind not in kinds:
            return None
        if name not in runs:
            version, time, slug = (policy.name_field(name, f) or "" for f in ("semver", "time", "slug"))
            runs[name] = Run(name, kind or "", version, time, slug or name)
        return runs[name]

    local: dict[str, str] = {}
    for ref in ws.git.refs("refs/heads/", "refs/remotes/"):
        if ref.type != "commit":
            continue
        if ref.name.startswith("refs/heads/"):
            where, name = "local", ref.name[len("refs/heads/") :]
            local[name] = ref.sha
        else:
            where, name = ref.name.split("/", 3)[2:]
        for status, branch in ((MAIN, main_name), (DEV, dev_name)):
            if name == branch:
                tips[status].append(ref.sha)
        run = run_for(name)
        if run is not None:
            run.refs[where] = ref.sha

    main_rev = local.get(main_name) or next(iter(tips[MAIN]), "")
    dev_rev = (local.get(dev_name) or next(iter(tips[DEV]), "")) if dev_name else ""
    # main's config, version by version (for "differs from main"): started now, read later
    history = (
        ws.git.background("log", "--first-parent", "--format=%H", main_rev, "--", policy.main_config)
        if main_rev
        else None
    )
    candidates = {r.commit for r in runs.values() if r.commit}
    queries = [(candidates, tips[MAIN]), (candidates, tips[DEV])]
    contained = ws.git.reachable_each(queries) if candidates else [set(), set()]

    with ws.git.session() as session:
        places = [(MAIN, main_rev), (DEV, dev_rev), (OPEN, "HEAD")]
        specs = {status: f"{rev}:{tasks_dir}" for status, rev in places if rev}
        trees = session.read(specs.values())
        folders: dict[str, set[str]] = {MAIN: set(), DEV: set()}
        roots: dict[str, str] = {run.branch: f"{run.commit}:{tasks_dir}/{run.branch}" for run in runs.values()}
        for status, rev in places:
            if status not in specs:
                continue
            for entry in tree_entries(trees[specs[status]]):
                if not entry.is_tree:
                    continue
                folders.get(status, set()).add(entry.name)
                run = run_for(entry.name)
                if run is not None and entry.name not in roots:
                    roots[entry.name] = entry.sha
                    run.read_at = "HEAD" if rev == "HEAD" else (main_name if status == MAIN else dev_name or "")
        metrics, chart_globs = list(policy.cfg["tasks"]["metrics"]), list(policy.cfg["tasks"]["charts"])
        files = find_files(session, roots, [config_name, *metrics, *(chart_globs if charts else [])])
        configs = decode(history()).split() if history else []
        wanted = [sha for found in files.values() for sha in found.values()]
        blobs = session.read([*wanted, *(f"{sha}:{policy.main_config}" for sha in configs)])

    baselines = _baselines(configs, blobs, policy.main_config, policy.version_key)
    required = set(policy.settings("task-config")["required"])
    for run in runs.values():
        run.read_at = run.read_at or run.commit
        on_main = run.branch in folders[MAIN] or run.commit in contained[0]
        on_dev = run.branch in folders[DEV] or run.commit in contained[1]
        run.status = DEBUG if run.kind == "debug" else MAIN if on_main else DEV if on_dev else OPEN
        found = files.get(run.branch, {})
        folder = run.folder(tasks_dir)
        if config_name in found:
            run.config, problem = parse_mapping(blobs[found[config_name]] or b"", f"{folder}/{config_name}")
            if problem:
                run.problems.append(problem)
        run.settings = flatten(run.config or {})
        baseline = baselines.get(run.version) or (baselines[max(baselines, key=_semver_key)] if baselines else None)
        run.differs = [
            key
            for key, value in run.settings.items()
            if key != policy.version_key
            and (key.split(".")[0] not in required if baseline is None else _differs(baseline, key, value))
        ]
        for glob in metrics:
            for path in sorted(p for p in found if matches(p, glob)):
                loaded, problem = parse_mapping(blobs[found[path]] or b"", f"{folder}/{path}")
                if problem:
                    run.problems.append(problem)
                    continue
                run.metric_files.append(path)
                for key, value in flatten(loaded).items():
                    run.metrics.setdefault(key, value)
        if charts:
            for glob in chart_globs:
                for path in sorted(found):
                    if matches(path, glob):
                        run.charts[path] = blobs[found[path]] or b""
    ordered = sorted(runs.values(), key=lambda r: (r.time, r.branch))
    _name(ordered)
    return ordered


def _semver_key(version: str) -> tuple[int, ...]:
    parsed = parse_semver(version)
    return tuple(parsed) if parsed else (-1,)


def _differs(baseline: dict[str, Any], key: str, value: Any) -> bool:
    return key not in baseline or baseline[key] != value or type(baseline[key]) is not type(value)


def _baselines(commits: list[str], blobs: dict[str, Optional[bytes]], path: str, version_key: str) -> dict[str, Any]:
    """VERSION -> main's config (flattened) as that version was released: at the oldest commit of
    main's first-parent line where VERSION says it (the version bump, what the tag points at)."""
    out: dict[str, dict[str, Any]] = {}
    for commit in commits:  # newest first: older ones overwrite
        loaded, problem = parse_mapping(blobs.get(f"{commit}:{path}") or b"", path)
        if loaded is not None and not problem and version_key in loaded:
            out[str(loaded[version_key])] = flatten(loaded)
    return out


def _name(runs: list[Run]) -> None:
    """The slug, unless two runs share it: then slug@time, or the branch name."""
    slugs: dict[str, int] = {}
    for run in runs:
        slugs[run.slug] = slugs.get(run.slug, 0) + 1
    timed: dict[str, int] = {}
    for run in runs:
        run.name = run.slug if slugs[run.slug] == 1 else f"{run.slug}@{run.time}"
        timed[run.name] = timed.get(run.name, 0) + 1
    for run in runs:
        if timed[run.name] > 1:
            run.name = run.branch
