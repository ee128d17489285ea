"""`.branch-policy.yaml`: the defaults (SPEC §2), validation with file/line/key, the Policy object.

PyYAML is imported only when a policy file exists, so hooks on a repository without one stay fast.
"""

from __future__ import annotations

import copy
import fnmatch
import re
from typing import Any, Callable, NamedTuple, Optional

from policy.errors import BranchPolicyError
from policy.naming import SEMVER_RE, compile_template, literal_ends, parse_semver
from policy.patterns import Pattern, PatternError, compile_user

POLICY_FILE = ".branch-policy.yaml"

RULE_IDS = (
    "branch-name",
    "protected-ref",
    "main-direct-commit",
    "squash-merge",
    "version-bump",
    "merge-source",
    "task-scope",
    "task-base",
    "debug-leak",
    "commit-message",
    "task-type",
    "hotfix-size",
    "version-tag",
    "task-config",
    "large-file",
    "unsafe-path",
    "ref-namespace",
)

# Namespaces the hosting platforms write into themselves (GitLab: merge requests, keep-around,
# environments, pipelines; GitHub and Gitea: pull requests): allowed, and judged for content.
PLATFORM_NAMESPACES = [
    "refs/merge-requests/",
    "refs/keep-around/",
    "refs/environments/",
    "refs/pipelines/",
    "refs/pull/",
]

DEFAULT_SUFFIXES = [
    ".pt", ".pth", ".ckpt", ".safetensors", ".h5", ".hdf5", ".npy", ".npz", ".pkl",
    ".pickle", ".joblib", ".onnx", ".pb", ".tflite", ".bin", ".tar", ".zip", ".gz",
    ".tgz", ".7z", ".parquet", ".feather", ".arrow", ".tfrecord", ".mat",
]  # fmt: skip

# The merge messages hosting platforms write by default (their sources and docs, 2026), as RE2
# patterns matched at the start of the whole message. Accepted on real merges off strict branches.
PLATFORM_MERGE_MESSAGES = {
    # GitHub's merge button: "Merge pull request #31 from owner/branch", the title in the body
    "github": r"Merge pull request #[0-9]+ from \S+(?:\n|\z)",
    # GitLab's default merge commit template: the subject is git's, the MR reference in the body
    "gitlab": r"(?m)Merge branch '[^'\n]+' into '[^'\n]+'\n(?s:.*)^See merge request [^\s!]+![0-9]+$",
    # Gitea and Forgejo: "Merge pull request 'title' (#12) from branch into main" ("!12" with an
    # external tracker; "owner/repo:branch" from a fork)
    "gitea": r"Merge pull request '.*' \([#!][0-9]+\) from \S+ into \S+(?:\n|\z)",
    # Bitbucket Cloud: "Merged in branch (pull request #12)"
    "bitbucket": r"Merged in \S+ \(pull request #[0-9]+\)(?:\n|\z)",
    # Bitbucket Data Center / Server: "Merge pull request #12 in PROJ/repo from branch to main"
    "bitbucket-server": r"Merge pull request #[0-9]+ in \S+ from \S+ to \S+(?:\n|\z)",
}

DEFAULTS: dict[str, Any] = {
    "version": 1,
    "on_error": "refuse",
    "time_budget_s": 60,
    "placeholders": {
        "semver": SEMVER_RE,
        "time": r"[0-9]{8}(?:-[0-9]{4}|-[0-9]{6}|T[0-9]{6})?",
        "slug": r"[a-z0-9][a-z0-9._-]*",
    },
    "branches": {
        "main": {"pattern": "main", "merges_from": ["dev", "hotfix", "task"]},
        "dev": {"pattern": "dev", "merges_from": ["feature", "hotfix", "task", "main"]},
        "feature": {"pattern": "feature-{slug}", "merges_from": ["dev", "main"]},
        "hotfix": {"pattern": "hotfix-{slug}", "merges_from": ["main"]},
        "task": {"pattern": "task-{semver}-{time}-{slug}", "merges_from": []},
        "debug": {"pattern": "debug-{semver}-{time}-{slug}", "merges_from": []},
    },
    "tasks": {
        "dir": "tasks",
        "main_config": "tasks/main/config.yaml",
        "version_key": "VERSION",
        "metrics": ["metrics.json", "metrics.yaml"],
        "charts": ["charts/*.csv"],
    },
    "version_tag": "v{semver}",
    "rules": {
        "branch-name": {"enabled": True, "also_allow": []},
        "protected-ref": {"enabled": True, "branches": ["main", "dev"]},
        "main-direct-commit": {"enabled": True},
        "squash-merge": {"enabled": True, "trailer": "Squash-Merge"},
        "version-bump": {"enabled": True},
        "merge-source": {"enabled": True},
        "task-scope": {"enabled": True},
        "task-base": {"enabled": True, "from": ["main", "task"]},
        "debug-leak": {"enabled": True, "folders": "debug-*"},
        "commit-message": {
            "enabled": True,
            "types": ["feat", "fix", "docs", "style", "refactor", "test", "chore", "task"],
            "type_case": "lower",
            "scopes": [],
            "scope_required": False,
            "max_subject_length": 72,
            "allow_git_merge_messages": True,
            "allow_platform_merge_messages": True,
            "platform_merge_messages": dict(PLATFORM_MERGE_MESSAGES),
            "allow_autosquash_messages": True,
            "allow_revert_messages": True,
            "fix": False,
            "strict_branches": ["main"],
        },
        "task-type": {"enabled": True, "type": "task"},
        "hotfix-size": {"enabled": True, "max_lines": 50},
        "version-tag": {"enabled": True},
        "task-config": {
            "enabled": True,
            "required": {
                "VERSION": "semver",
                "DEBUG": "bool",
                "RESUME": "null-or-str",
                "TRAIN": "bool",
                "TEST": "bool",
                "MODEL_PATH": "null-or-str",
                "RANDOM_SEED": "int",
            },
        },
        "large-file": {
            "enabled": True,
            "max_kb": 500,
            "suffixes": DEFAULT_SUFFIXES,
            "allow": ["*.dvc", ".dvc/*", ".dvcignore"],
        },
        "unsafe-path": {"enabled": True},
        "ref-namespace": {"enabled": True, "allow": PLATFORM_NAMESPACES},
    },
}

VALUE_TYPES = ("semver", "bool", "int", "number", "str", "null-or-str", "null", "list", "mapping", "any")


class PolicyError(BranchPolicyError):
    """The policy file is malformed: exit 2 with file, line and key (never a silent allow).

    Keys and values in the message come from the file (from a commit, on the server), so its
    control characters and bidi overrides are shown escaped, never sent to a terminal."""

    def __str__(self) -> str:
        return "".join(
            ch if ch.isprintable() else f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"
            for ch in super().__str__()
        )


# --------------------------------------------------------------------------- validation


class _Node:
    """A YAML value with its line, so that every error can say where it is."""

    __slots__ = ("line", "value")

    def __init__(self, value: Any, line: int) -> None:
        self.value = value
        self.line = line


MAX_POLICY_BYTES = 256 * 1024  # the commented defaults are 5 KB
MAX_DEPTH = 64  # no policy needs more than a handful of levels


def _to_nodes(node: Any, source: str, seen: Optional[dict[int, Optional[_Node]]] = None, depth: int = 0) -> _Node:
    """The YAML node graph as _Nodes. Aliases share what their anchor made (converted once), so
    a file of anchors and aliases cannot expand into billions of values; an alias inside its own
    anchor and absurd nesting are errors with a line, never a RecursionError."""
    import yaml

    line = node.start_mark.line + 1
    if not isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        return _Node(_scalar(node), line)
    seen = {} if seen is None else seen
    if id(node) in seen:
        done = seen[id(node)]
        if done is None:
            raise PolicyError(f"{source}:{line}: an alias refers to the value that contains it (a recursive anchor)")
        return done
    if depth >= MAX_DEPTH:
        raise PolicyError(f"{source}:{line}: values nested more than {MAX_DEPTH} levels deep")
    seen[id(node)] = None
    if isinstance(node, yaml.MappingNode):
        out: dict[str, _Node] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if not isinstance(key, str):
                raise PolicyError(f"{source}:{line}: keys must be text, got {key!r}")
            if key in out:
                raise PolicyError(f"{source}:{key_node.start_mark.line + 1}: duplicate key {key!r}")
            out[key] = _to_nodes(value_node, source, seen, depth + 1)
        result = _Node(out, line)
    else:
        result = _Node([_to_nodes(item, source, seen, depth + 1) for item in node.value], line)
    seen[id(node)] = result
    return result


def _scalar(node: Any) -> Any:
    import yaml

    if not isinstance(node, yaml.ScalarNode):
        return node  # a mapping or list used as a key; the caller reports it
    try:
        return yaml.constructor.SafeConstructor().construct_object(node)
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        # 2026-13-45 read as a date, a 5000-digit int, an unknown !!tag: no check accepts it, and
        # the check of its key says what is wrong (with the key), never a traceback
        problem = getattr(exc, "problem", None) or str(exc) or type(exc).__name__
        return _Unreadable(node.value, problem.splitlines()[0])


class _Unreadable(NamedTuple):
    """A scalar that YAML cannot turn into a value."""

    text: str
    problem: str

    def __repr__(self) -> str:
        text = self.text if len(self.text) <= 40 else f"{self.text[:30]}... ({len(self.text)} characters)"
        return f"{text!r} ({self.problem[:100]})"


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: _Node, key: str, problem: str) -> PolicyError:
        return PolicyError(f"{self.source}:{node.line}: {key or '(top level)'}: {problem}")

    def mapping(self, node: _Node, key: str) -> dict[str, _Node]:
        if not isinstance(node.value, dict):
            raise self.fail(node, key, f"expected a mapping, got {_show(node.value)}")
        return node.value

    def known(self, node: _Node, key: str, allowed: list[str]) -> dict[str, _Node]:
        mapping = self.mapping(node, key)
        for name, child in mapping.items():
            if name not in allowed:
                import difflib

                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(allowed)})"
                raise self.fail(child, _join(key, name), f"unknown key{hint}")
        return mapping

    def text(self, node: _Node, key: str, pattern: str = "", what: str = "text") -> str:
        if not isinstance(node.value, str) or not node.value:
            raise self.fail(node, key, f"expected {what}, got {_show(node.value)}")
        if pattern and not re.fullmatch(pattern, node.value):
            raise self.fail(node, key, f"expected {what}, got {node.value!r}")
        return node.value

    def boolean(self, node: _Node, key: str) -> bool:
        if not isinstance(node.value, bool):
            raise self.fail(node, key, f"expected true or false, got {_show(node.value)}")
        return node.value

    def integer(self, node: _Node, key: str, minimum: int) -> int:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(node, key, f"expected a whole number >= {minimum}, got {_show(value)}")
        return value

    def regex(self, node: _Node, key: str) -> str:
        text = self.text(node, key, what="a regular expression")
        try:
            compile_user(text)
        except PatternError as exc:
            raise self.fail(node, key, f"not a valid RE2 regular expression: {exc}") from None
        return text

    def items(self, node: _Node, key: str, each: Callable[[_Node, str], Any]) -> list[Any]:
        if not isinstance(node.value, list):
            raise self.fail(node, key, f"expected a list, got {_show(node.value)}")
        return [each(item, f"{key}[{i}]") for i, item in enumerate(node.value)]


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def _show(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, _Unreadable):
        return repr(value)
    shown = repr(value)
    if len(shown) > 80:  # a message names the value, it does not reproduce a 5000-digit one
        shown = shown[:60] + f"... ({len(shown)} characters)"
    return f"{type(value).__name__} {shown}"


def _merge_user(source: str, root: _Node) -> dict[str, Any]:
    """Validate the user's file and return DEFAULTS updated with it."""
    c = _Checker(source)
    cfg = copy.deepcopy(DEFAULTS)
    top = c.known(root, "", list(DEFAULTS))

    if "version" in top and top["version"].value != 1:
        raise c.fail(top["version"], "version", f"only version 1 is known, got {_show(top['version'].value)}")
    if "on_error" in top:
        cfg["on_error"] = c.text(top["on_error"], "on_error", "refuse|allow", "'refuse' or 'allow'")
    if "time_budget_s" in top:
        cfg["time_budget_s"] = c.integer(top["time_budget_s"], "time_budget_s", 1)
    if "placeholders" in top:
        for name, node in c.mapping(top["placeholders"], "placeholders").items():
            c.text(_Node(name, node.line), f"placeholders.{name}", r"[a-z_]+", "a lower-case name")
            cfg["placeholders"][name] = c.regex(node, f"placeholders.{name}")
    removed: dict[str, list[str]] = {}  # a removed kind -> the kinds it took merges from
    explicit: set[str] = set()  # kinds whose merges_from the file gives
    if "branches" in top:
        for kind, node in c.mapping(top["branches"], "branches").items():
            key = f"branches.{kind}"
            c.text(_Node(kind, node.line), key, r"[a-z][a-z0-9_-]*", "a lower-case kind name")
            if node.value is None:
                if kind == "main":
                    raise c.fail(node, key, "the main kind cannot be removed")
                removed[kind] = (cfg["branches"].pop(kind, None) or {}).get("merges_from", [])
                continue
            fields = c.known(node, key, ["pattern", "merges_from"])
            entry = cfg["branches"].setdefault(kind, {"pattern": None, "merges_from": []})
            if "pattern" in fields:
                entry["pattern"] = c.text(fields["pattern"], f"{key}.pattern", what="a name template")
            elif entry["pattern"] is None:
                raise c.fail(node, f"{key}.pattern", "a new branch kind needs a pattern")
            if "merges_from" in fields:
                explicit.add(kind)
                entry["merges_from"] = c.items(fields["merges_from"], f"{key}.merges_from", c.text)
    if "tasks" in top:
        fields = c.known(top["tasks"], "tasks", list(DEFAULTS["tasks"]))
        for name, node in fields.items():
            if name in RUN_GLOBS:
                cfg["tasks"][name] = c.items(node, f"tasks.{name}", _run_glob(c))
            else:
                cfg["tasks"][name] = c.text(node, f"tasks.{name}").strip("/")
    if "version_tag" in top:
        cfg["version_tag"] = c.text(top["version_tag"], "version_tag", what="a tag template")
    if "rules" in top:
        for rule_id, node in c.known(top["rules"], "rules", list(RULE_IDS)).items():
            _merge_rule(c, cfg["rules"][rule_id], rule_id, node)

    _reroute(cfg, removed, explicit)
    _drop_removed_kinds(cfg, set(removed))
    _check_references(c, cfg, top)
    return cfg


RUN_GLOBS = ("metrics", "charts")  # tasks.<key>: globs of files inside a run's folder (policy tasks / report)


def _run_glob(c: _Checker) -> Callable[[_Node, str], str]:
    """A glob relative to the run's folder (`charts/*.csv`): each `/`-separated part is a shell
    glob; nothing absolute, no `..`, so a run's results are read from inside its own folder."""

    def check(node: _Node, key: str) -> str:
        text = c.text(node, key, what="a glob inside the run's folder")
        parts = text.split("/")
        if text.startswith("/") or any(part in ("", ".", "..") for part in parts):
            raise c.fail(node, key, f"expected a glob inside the run's folder such as charts/*.csv, got {text!r}")
        return text

    return check


def _reroute(cfg: dict[str, Any], removed: dict[str, list[str]], explicit: set[str]) -> None:
    """What reached a long-lived kind (a fixed name: main) through a removed one now merges straight
    in: with `dev: null`, main (unless the file gives its merges_from) takes what dev took, so
    features merge into main. Temporary kinds (feature-{slug}) only lose the removed one."""
    for gone, sources in removed.items():
        for kind, entry in cfg["branches"].items():
            if kind in explicit or gone not in entry["merges_from"] or "{" in str(entry["pattern"]):
                continue
            entry["merges_from"] += [
                s for s in sources if s != kind and s not in removed and s not in entry["merges_from"]
            ]


def _drop_removed_kinds(cfg: dict[str, Any], removed: set[str]) -> None:
    """`dev: null` removes the kind everywhere it is named (the main-only variant of the model)."""
    lists = [entry["merges_from"] for entry in cfg["branches"].values()]
    rules = cfg["rules"]
    lists += [
        rules["protected-ref"]["branches"],
        rules["task-base"]["from"],
        rules["commit-message"]["strict_branches"],
    ]
    for kinds in lists:
        kinds[:] = [k for k in kinds if k not in removed]


def _merge_rule(c: _Checker, settings: dict[str, Any], rule_id: str, node: _Node) -> None:
    key = f"rules.{rule_id}"
    if isinstance(node.value, bool):  # `hotfix-size: false` is short for enabled: false
        settings["enabled"] = node.value
        return
    fields = c.known(node, key, list(settings))
    for name, child in fields.items():
        default = settings[name]
        sub = f"{key}.{name}"
        if rule_id == "commit-message" and name in _COMMIT_MESSAGE_SPECIAL:
            settings[name] = _COMMIT_MESSAGE_SPECIAL[name](c, child, sub, default)
        elif name == "required":
            settings[name] = {
                field: c.text(v, f"{sub}.{field}", "|".join(VALUE_TYPES), "one of " + ", ".join(VALUE_TYPES))
                for field, v in c.mapping(child, sub).items()
            }
        elif name in ("also_allow",):
            settings[name] = c.items(child, sub, c.regex)
        elif isinstance(default, bool):
            settings[name] = c.boolean(child, sub)
        elif isinstance(default, int):
            settings[name] = c.integer(child, sub, 1 if name == "max_subject_length" else 0)
        elif isinstance(default, list):
            settings[name] = c.items(child, sub, c.text)
            if name == "types" and not settings[name]:
                raise c.fail(child, sub, "needs at least one commit type")
        else:
            settings[name] = c.text(child, sub)
    if rule_id == "commit-message":
        _check_types(c, settings, fields.get("types") or fields.get("type_case") or node, key)


# --------------------------------------------------------------------------- commit-message settings


def _re2_pattern(c: _Checker, node: _Node, key: str) -> str:
    """A pattern the user writes: RE2 (linear time, whatever the message)."""
    import re2

    text = c.text(node, key, what="an RE2 regular expression")
    options = re2.Options()
    options.log_errors = False  # the error is ours to report, once, with the file and line
    try:
        re2.compile(text, options)
    except re2.error as exc:
        why = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise c.fail(node, key, f"not a valid RE2 regular expression: {why}") from None
    return text


def _type_case(c: _Checker, node: _Node, key: str, default: Any) -> str:
    return c.text(node, key, "lower|any", "'lower' or 'any'")


def _scopes(c: _Checker, node: _Node, key: str, default: Any) -> Any:
    """A list of scope names, or one RE2 pattern a scope must match as a whole."""
    if isinstance(node.value, str):
        return _re2_pattern(c, node, key)
    if not isinstance(node.value, list):
        raise c.fail(node, key, f"expected a list of scopes or an RE2 pattern, got {_show(node.value)}")
    return c.items(node, key, lambda item, k: c.text(item, k, r"[^()\r\n]+", "a scope name (no parentheses)"))


def _platform_patterns(c: _Checker, node: _Node, key: str, default: Any) -> dict[str, str]:
    """name: RE2 pattern; `name: null` removes a built-in one."""
    patterns = dict(default)
    for name, child in c.mapping(node, key).items():
        c.text(_Node(name, child.line), f"{key}.{name}", r"[a-z][a-z0-9_-]*", "a lower-case name")
        if child.value is None:
            patterns.pop(name, None)
        else:
            patterns[name] = _re2_pattern(c, child, f"{key}.{name}")
    return patterns


_COMMIT_MESSAGE_SPECIAL: dict[str, Callable[[_Checker, _Node, str, Any], Any]] = {
    "type_case": _type_case,
    "scopes": _scopes,
    "platform_merge_messages": _platform_patterns,
}


def _check_types(c: _Checker, settings: dict[str, Any], node: _Node, key: str) -> None:
    """Every listed type is one the parser can read, and one a commit can be written with."""
    from policy.commitmsg import TYPE_RE

    for i, name in enumerate(settings["types"]):
        sub = f"{key}.types[{i}]"
        if not re.fullmatch(TYPE_RE, name):
            raise c.fail(node, sub, f"{name!r} cannot be a commit type: a letter, then letters, digits, '_' or '-'")
        if settings["type_case"] == "lower" and name != name.lower():
            raise c.fail(
                node, sub, f"{name!r} can never match with type_case: lower: write {name.lower()!r}, or type_case: any"
            )


def _check_references(c: _Checker, cfg: dict[str, Any], top: dict[str, _Node]) -> None:
    """Kinds named in merges_from / protected / task-base must exist; templates must compile."""
    kinds = cfg["branches"]
    rules = cfg["rules"]
    refs = [(("branches", kind, "merges_from"), entry["merges_from"]) for kind, entry in kinds.items()] + [
        (("rules", "protected-ref", "branches"), rules["protected-ref"]["branches"]),
        (("rules", "task-base", "from"), rules["task-base"]["from"]),
        (("rules", "commit-message", "strict_branches"), rules["commit-message"]["strict_branches"]),
    ]
    for path, names in refs:
        for name in names:
            if name not in kinds:
                node = _find(top, path)
                raise c.fail(node, ".".join(path), f"unknown branch kind {name!r} (kinds: {', '.join(kinds)})")
    templates: list[tuple[tuple[str, ...], str]] = [
        (("branches", kind, "pattern"), entry["pattern"]) for kind, entry in kinds.items()
    ]
    templates.append((("version_tag",), cfg["version_tag"]))
    for path, template in templates:
        try:
            compile_template(template, cfg["placeholders"])
        except KeyError as exc:
            raise c.fail(_find(top, path), ".".join(path), f"unknown placeholder {{{exc.args[0]}}}") from None
        except PatternError as exc:
            raise c.fail(_find(top, path), ".".join(path), f"does not compile (RE2): {exc}") from None


def _find(top: dict[str, _Node], path: tuple[str, ...]) -> _Node:
    """The deepest node the user wrote along `path` (for the line number of an error)."""
    node = _Node(top, 1)
    for part in path:
        if isinstance(node.value, dict) and part in node.value:
            node = node.value[part]
        else:
            break
    return node


def parse_policy_bytes(data: bytes, source: str) -> Policy:
    """A policy file as stored (a blob, a file): UTF-8 text, else a PolicyError naming `source`.
    Larger than MAX_POLICY_BYTES is refused unread (YAML of that size costs seconds to parse)."""
    if len(data) > MAX_POLICY_BYTES:
        raise PolicyError(
            f"{source}: the policy file is {len(data) // 1024} KB; a policy is at most {MAX_POLICY_BYTES // 1024} KB"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyError(f"{source}: the policy file is not UTF-8 text") from None
    return parse_policy_text(text, source)


def parse_policy_text(text: str, source: str) -> Policy:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        root = yaml.compose(text, Loader=loader)
    except RecursionError:  # PyYAML's composer recurses once per nesting level
        raise PolicyError(f"{source}: not valid YAML: values nested too deeply") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise PolicyError(f"{source}{line}: not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: not valid YAML: {exc}") from None
    if root is None:
        return Policy(copy.deepcopy(DEFAULTS), source)
    return Policy(_merge_user(source, _to_nodes(root, source)), source)


# --------------------------------------------------------------------------- the policy


def _utf8(name: str) -> bool:
    """Whether a ref name (decoded with surrogateescape) is text RE2 can match."""
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


# Each branch name's kind, by the branch kinds (in order) and placeholders that decide it: a pure
# function of those texts, so one table serves every Policy with the same kinds. A warm judge's
# worker then classifies a server's thousands of branches once, not on every push (2,000 branches:
# about 30 ms of each push's CPU). Bounded: a few tables, each of at most KIND_CACHE_SIZE names.
_KIND_CACHES: dict[tuple[object, ...], dict[str, Optional[str]]] = {}
KIND_CACHE_SIZE = 100_000


def _kind_cache(kinds: tuple[tuple[str, str], ...], placeholders: dict[str, str]) -> dict[str, Optional[str]]:
    key = (kinds, tuple(sorted(placeholders.items())))
    table = _KIND_CACHES.get(key)
    if table is None:
        if len(_KIND_CACHES) >= 8:
            _KIND_CACHES.clear()
        table = _KIND_CACHES[key] = {}
    return table


class Policy:
    """The settings the rules read, with the derived patterns compiled once."""

    def __init__(self, cfg: dict[str, Any], source: str = "built-in defaults") -> None:
        self.cfg = cfg
        self.source = source
        placeholders = cfg["placeholders"]
        self.kinds: dict[str, Pattern] = {
            kind: compile_template(entry["pattern"], placeholders) for kind, entry in cfg["branches"].items()
        }
        self._kind_cache = _kind_cache(tuple((k, e["pattern"]) for k, e in cfg["branches"].items()), placeholders)
        # A name that lacks a kind's literal prefix or suffix is not of that kind: the test that
        # spares most RE2 calls (a server with thousands of branches classifies each on every push).
        self._kind_ends = {kind: literal_ends(entry["pattern"]) for kind, entry in cfg["branches"].items()}
        self.version_tag_re = compile_template(cfg["version_tag"], placeholders)
        self.tasks_dir: str = cfg["tasks"]["dir"]
        self.main_config: str = cfg["tasks"]["main_config"]
        self.version_key: str = cfg["tasks"]["version_key"]
        large = cfg["rules"]["large-file"]
        self.max_bytes: int = large["max_kb"] * 1024
        self.suffixes = tuple(s.lower() for s in large["suffixes"])
        self.also_allow = [compile_user(p) for p in cfg["rules"]["branch-name"]["also_allow"]]
        self._only: Optional[frozenset[str]] = None
        # Path tests run for every changed path of every judged commit: compiled once, here.
        tasks = re.escape(self.tasks_dir)
        self._tasks_prefix = self.tasks_dir + "/"
        self._task_config = re.compile(rf"{tasks}/[^/]+/config\.yaml\Z", re.DOTALL)
        self._debug_folder = re.compile(fnmatch.translate(cfg["rules"]["debug-leak"]["folders"]))
        self._exempt = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in large["allow"]) or r"(?!)")

    @classmethod
    def defaults(cls) -> Policy:
        return cls(copy.deepcopy(DEFAULTS))

    # rules ------------------------------------------------------------------
    def settings(self, rule_id: str) -> dict[str, Any]:
        return self.cfg["rules"][rule_id]

    def enabled(self, rule_id: str) -> bool:
        if self._only is not None and rule_id not in self._only:
            return False
        return bool(self.cfg["rules"][rule_id]["enabled"])

    def only(self, rule_ids: Optional[list[str]]) -> Policy:
        """A copy that judges only these rules (`policy check --rules ...`)."""
        clone = Policy.__new__(Policy)
        clone.__dict__.update(self.__dict__)
        clone._only = frozenset(rule_ids) if rule_ids else None
        return clone

    @property
    def judging_all(self) -> bool:
        """False when only some rules were asked for (policy check --rules ...)."""
        return self._only is None

    @property
    def time_budget(self) -> int:
        """Seconds the server hook may take to judge a push."""
        return int(self.cfg["time_budget_s"])

    @property
    def on_error_allow(self) -> bool:
        return self.cfg["on_error"] == "allow"

    # branches ---------------------------------------------------------------
    def kind_of(self, branch: str) -> Optional[str]:
        """The first kind whose pattern matches the whole name (remembered: a push of thousands of
        branches asks for each name more than once, and every RE2 call costs microseconds)."""
        found = self._kind_cache.get(branch, "")
        if found != "":
            return found
        kind = None
        if _utf8(branch):  # RE2 matches text; a name of other bytes is no kind's
            kind = next(
                (k for k, pattern in self.kinds.items() if self._may_be(k, branch) and pattern.fullmatch(branch)), None
            )
        if len(self._kind_cache) < KIND_CACHE_SIZE:
            self._kind_cache[branch] = kind
        return kind

    def _may_be(self, kind: str, branch: str) -> bool:
        head, tail = self._kind_ends[kind]
        return len(branch) >= len(head) + len(tail) and branch.startswith(head) and branch.endswith(tail)

    def name_field(self, branch: str, field: str) -> Optional[str]:
        kind = self.kind_of(branch)
        if kind is None:
            return None
        m = self.kinds[kind].fullmatch(branch)
        return m.groupdict().get(field) if m else None

    def allowed_name(self, branch: str) -> bool:
        return self.kind_of(branch) is not None or (_utf8(branch) and any(p.match(branch) for p in self.also_allow))

    def accepts(self, target_kind: Optional[str]) -> list[str]:
        if target_kind is None or target_kind not in self.cfg["branches"]:
            return []
        return list(self.cfg["branches"][target_kind]["merges_from"])

    def pattern(self, kind: str) -> str:
        return self.cfg["branches"][kind]["pattern"]

    def has_kind(self, kind: str) -> bool:
        return kind in self.kinds

    @property
    def protected_kinds(self) -> list[str]:
        return list(self.settings("protected-ref")["branches"])

    # paths ------------------------------------------------------------------
    def task_folder(self, branch: str) -> str:
        return f"{self.tasks_dir}/{branch}/"

    def in_tasks(self, path: str) -> bool:
        return path.startswith(self._tasks_prefix)

    def is_debug_path(self, path: str) -> bool:
        """tasks/<folder>/... where <folder> matches the debug-leak glob (debug-*)."""
        if not path.startswith(self._tasks_prefix):
            return False
        folder, slash, _ = path[len(self._tasks_prefix) :].partition("/")
        return bool(slash) and self._debug_folder.match(folder) is not None

    def is_task_config(self, path: str) -> bool:
        return self._task_config.match(path) is not None

    def large_file_exempt(self, path: str) -> bool:
        """The path, or its file name, matches one of large-file's `allow` globs."""
        return self._exempt.match(path) is not None or self._exempt.match(path.rpartition("/")[2]) is not None

    def version_of_tag(self, tag: str) -> Optional[str]:
        m = self.version_tag_re.fullmatch(tag) if _utf8(tag) else None
        if not m:
            return None
        version = m.groupdict().get("semver")
        return version if version and parse_semver(version) else None


def loosened(old: Policy, new: Policy) -> list[str]:
    """What `new` allows that `old` refused, one phrase per setting (a push that changes main's
    policy says so: the team may loosen its rules, but never silently)."""
    found: list[str] = []
    a, b = old.cfg, new.cfg
    if a["on_error"] != b["on_error"] and b["on_error"] == "allow":
        found.append("on_error: refuse -> allow")
    if b["time_budget_s"] > a["time_budget_s"]:
        found.append(f"time_budget_s: {a['time_budget_s']} -> {b['time_budget_s']}")
    for key in ("placeholders", "version_tag"):
        if a[key] != b[key]:
            found.append(f"{key} changed")
    for kind in sorted(set(a["branches"]) | set(b["branches"])):
        before, after = a["branches"].get(kind), b["branches"].get(kind)
        if before is None or after is None:
            found.append(f"branches.{kind} {'added' if before is None else 'removed'}")
            continue
        if before["pattern"] != after["pattern"]:
            found.append(f"branches.{kind}.pattern: {before['pattern']} -> {after['pattern']}")
        more = sorted(set(after["merges_from"]) - set(before["merges_from"]))
        if more:
            found.append(f"branches.{kind}.merges_from adds {', '.join(more)}")
    for rule in RULE_IDS:
        x, y = a["rules"][rule], b["rules"][rule]
        if x["enabled"] and not y["enabled"]:
            found.append(f"rules.{rule} turned off")
            continue
        for name, value in y.items():
            was = x.get(name)
            key = f"rules.{rule}.{name}"
            if name == "enabled" or value == was:
                continue
            if isinstance(value, (bool, str)):
                found.append(f"{key}: {was} -> {value}")
            elif isinstance(value, int):
                if value > was:  # every number is a limit: a larger one allows more
                    found.append(f"{key}: {was} -> {value}")
            elif isinstance(value, list):
                grown, shrunk = (
                    sorted(set(map(str, value)) - set(map(str, was))),
                    sorted(set(map(str, was)) - set(map(str, value))),
                )
                refusing = name in ("suffixes", "branches", "strict_branches", "from")  # fewer refuse less
                if refusing and shrunk:
                    found.append(f"{key} drops {', '.join(shrunk)}")
                elif not refusing and grown:
                    found.append(f"{key} adds {', '.join(grown)}")
            elif isinstance(value, dict):
                gone = sorted(set(was) - set(value))
                if gone or any(value[k] != was[k] for k in value if k in was):
                    found.append(f"{key} changed" + (f" (drops {', '.join(gone)})" if gone else ""))
    return found
