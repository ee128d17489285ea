"""task-config: every tasks/*/config.yaml parses and holds the required keys with the right types."""

from __future__ import annotations

import re
from typing import Any, Optional

from policy import flatyaml
from policy.config import Policy
from policy.model import Violation
from policy.naming import parse_semver
from policy.rules._base import q, rewrite, violation

ID = "task-config"


_TYPES: dict[str, tuple[str, Any]] = {
    "semver": ("a version string like 0.1.0", lambda v: parse_semver(v) is not None),
    "bool": ("true or false", lambda v: isinstance(v, bool)),
    "int": ("a whole number", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "number": ("a number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
    "str": ("a string", lambda v: isinstance(v, str)),
    "null-or-str": ("null or a string", lambda v: v is None or isinstance(v, str)),
    "null": ("null", lambda v: v is None),
    "list": ("a list", lambda v: isinstance(v, list)),
    "mapping": ("a mapping", lambda v: isinstance(v, dict)),
    "any": ("any value", lambda v: True),
}


MAX_BYTES = 64 * 1024
_SEXAGESIMAL = re.compile(r"[0-9](?::[0-5]?[0-9]){9}")


def load_yaml(content: bytes) -> tuple[Any, Optional[str]]:
    """(data, None), or (None, what is wrong). The content comes from whoever pushed: whatever
    PyYAML raises on it (an impossible date, a 5000-digit number, deep nesting) is a problem with
    the file, never an internal error. The usual flat KEY: value file is read without PyYAML
    (flatyaml), which is imported only for other files. A config larger than MAX_BYTES is refused
    unread: settings are small, and YAML's number forms can cost quadratic time."""
    if len(content) > MAX_BYTES:
        return None, f"it is {len(content) // 1024} KB; a run's config holds settings, at most {MAX_BYTES // 1024} KB"
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None, "it is not UTF-8 text"
    if _SEXAGESIMAL.search(text):  # YAML 1.1 reads 1:2:3 as a base-60 int, in time quadratic in its length
        return None, "it holds a base-60 number (1:2:3:...) of more than 9 parts, which is no setting"
    try:
        flat = flatyaml.load(text)
    except (ValueError, OverflowError, TypeError) as exc:
        return None, _bad_value(exc)
    if flat is not None:
        return flat, None
    import yaml

    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)), None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        return None, f"it is not valid YAML{where}: {getattr(exc, 'problem', None) or exc}"
    except RecursionError:
        return None, "it is not valid YAML: values nested too deeply"
    except (ValueError, OverflowError, TypeError) as exc:
        return None, _bad_value(exc)


def _bad_value(exc: Exception) -> str:
    """A value PyYAML's constructors refuse (2026-13-45 read as a date, a 5000-digit number)."""
    return f"it is not valid YAML: {str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__}"


def show(value: Any, limit: int = 60) -> str:
    """A value for a message, bounded: aliases can make a small file hold a huge structure."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**limit else f"a {len(str(value))}-digit number"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def problems(content: bytes, policy: Policy) -> list[str]:
    """What is wrong with one config file's content ([] when it is fine)."""
    data, error = load_yaml(content)
    if error:
        return [error]
    if not isinstance(data, dict):
        return ["it is not a mapping of settings"]
    found = []
    for key, kind in policy.settings(ID)["required"].items():
        what, ok = _TYPES[kind]
        if key not in data:
            found.append(f"{key} is missing ({what})")
        elif not ok(data[key]):
            found.append(f"{key} should be {what}, got {show(data[key])}")
    return found


def check(content: bytes, path: str, ref: str, commit: str, policy: Policy) -> list[Violation]:
    return report(problems(content, policy), path, ref, commit, policy)


def report(found: list[str], path: str, ref: str, commit: str, policy: Policy) -> list[Violation]:
    """The violation for what `problems` found in the config at `path`."""
    if not found:
        return []
    return [
        violation(
            ID,
            "; ".join(found),
            fix(found, path, commit, policy),
            ref=ref,
            commit=commit,
            path=path,
        )
    ]


def fix(found: list[str], path: str, commit: str, policy: Policy) -> str:
    """Missing keys are copied from main's config (the run keeps its own values); values of the
    wrong type are named, with the type wanted (`policy rules` lists them)."""
    missing = [f.split(" ", 1)[0] for f in found if " is missing " in f]
    if not missing or path == policy.main_config or len(missing) != len(found):
        return f"edit {path}: {'; '.join(found)} (the keys and types: policy rules; a sample: {policy.main_config})"
    keys = "|".join(missing)
    copy = f"grep -E '^({keys}):' {q(policy.main_config)} >> {q(path)} && git add {q(path)}"
    if not commit:
        return f"take the missing keys from {policy.main_config}, `{copy}`"
    return f"take the missing keys from {policy.main_config} and redo {commit[:7]}, `{rewrite(commit, copy)}`"
