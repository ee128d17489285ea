"""Every parser of text that arrives from a push, fuzzed: no exception but the documented one, and
each call well under a second. Commit messages (policy.commitmsg), branch names and tags
(Policy.kind_of & co.), the policy file (parse_policy_bytes: PolicyError only), task configs
(task_config.problems: never raises; flatyaml.load: ValueError/OverflowError/TypeError only, and
exactly yaml.safe_load's values when it answers).

The nightly-style run is documented in tests/test_reference_property.py.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable, TypeVar

import yaml
from hypothesis import given
from hypothesis import strategies as st

from policy import commitmsg, flatyaml
from policy.config import DEFAULTS, Policy, PolicyError, parse_policy_bytes
from policy.rules import commit_message
from policy.rules.task_config import problems

T = TypeVar("T")
LIMIT = 1.0  # seconds a single call may take
POLICY = Policy.defaults()


def timed(call: Callable[[], T]) -> T:
    start = time.perf_counter()
    result = call()
    elapsed = time.perf_counter() - start
    assert elapsed < LIMIT, f"took {elapsed:.2f} s"
    return result


# ---------------------------------------------------------------------------------- messages
SUBJECT_PARTS = st.sampled_from(
    ["feat", "fix", "task", "Merge branch 'dev'", "Merge branches 'a' and 'b' of x into y", "(", ")", "!", ": ",
     ":", " ", "\n", "\r", "\t", "\x0b", "\u2028", "\x85", "#", "Squash-Merge:", "squash-merge: dev ",
     "a" * 40, "0" * 40, "x" * 80, "# ------------------------ >8 ------------------------", "Merge ", "'"]
)  # fmt: skip
MESSAGES = st.one_of(st.text(), st.lists(st.one_of(SUBJECT_PARTS, st.text(max_size=5)), max_size=30).map("".join))


@given(MESSAGES)
def test_commit_messages_never_raise(message: str) -> None:
    subject = timed(lambda: commitmsg.subject_line(message))
    assert "\n" not in subject
    timed(lambda: commitmsg.parse_subject(subject))
    timed(lambda: commitmsg.commit_type(message))
    timed(lambda: commitmsg.is_git_merge_message(subject))
    cleaned = timed(lambda: commitmsg.clean_message(message))
    assert cleaned == "" or cleaned.endswith("\n")
    record = timed(lambda: commitmsg.squash_record(message, "Squash-Merge"))
    if record is not None:
        assert len(record.commit) == 40 and timed(lambda: commitmsg.has_trailer_key(message, "Squash-Merge"))
    timed(lambda: commitmsg.add_trailer(message, "Squash-Merge: dev " + "0" * 40))
    for merge in (False, True):
        for strict in (False, True):
            found = timed(lambda: commit_message.problems(message, merge, strict, POLICY))  # noqa: B023
            assert isinstance(found, list)


# ---------------------------------------------------------------------------------- names
NAME_PARTS = st.sampled_from(
    ["main", "dev", "feature-", "hotfix-", "task-", "debug-", "0.1.0", "-", "20261126", "T120000", "-1200",
     "a", ".", "_", "/", "\n", "v", "1.2.3-rc.1+b", "00", "99999999999999999999", "x" * 200]
)  # fmt: skip
NAMES = st.one_of(st.text(), st.lists(NAME_PARTS, max_size=12).map("".join))


@given(NAMES)
def test_branch_and_tag_names_never_raise(name: str) -> None:
    kind = timed(lambda: POLICY.kind_of(name))
    assert kind is None or kind in POLICY.kinds
    timed(lambda: POLICY.allowed_name(name))
    semver = timed(lambda: POLICY.name_field(name, "semver"))
    assert semver is None or kind in ("task", "debug")
    timed(lambda: POLICY.version_of_tag(name))
    timed(lambda: POLICY.is_debug_path(name))
    timed(lambda: POLICY.is_task_config(name))
    timed(lambda: POLICY.large_file_exempt(name))


# ---------------------------------------------------------------------------------- the policy file
SCALARS = st.one_of(
    st.sampled_from([True, False, None, 0, 1, -1, 50, 10**30, 0.5, "", "main", "dev", "task", "feature-{slug}",
                     "{semver}", "{nope}", "(a+)+$", "[", "a{1000}{1000}", "refuse", "allow", "v{semver}",
                     "debug-*", "*.dvc", "semver", "bool", "int"]),
    st.text(max_size=20),
    st.integers(),
)  # fmt: skip


def _policy_value(depth: int) -> st.SearchStrategy[Any]:
    if depth == 0:
        return SCALARS
    keys = st.sampled_from(sorted({*DEFAULTS, *DEFAULTS["rules"], *DEFAULTS["branches"], "pattern", "merges_from",
                                   "enabled", "max_kb", "allow", "required", "types", "from", "x"}))  # fmt: skip
    return st.one_of(
        SCALARS,
        st.lists(_policy_value(depth - 1), max_size=4),
        st.dictionaries(keys, _policy_value(depth - 1), max_size=5),
    )


POLICY_DOCS = st.dictionaries(st.sampled_from(sorted(DEFAULTS)), _policy_value(3), max_size=6)
YAML_NOISE = st.lists(
    st.sampled_from(["rules:\n", "  ", "- ", "&a ", "*a ", "!!python/object ", "<<: *a\n", "{", "}", "[", "]",
                     ": ", "\n", "\t", "'", '"', "#", "---\n", "...\n", "version: 1\n", "2026-13-45", "1" * 5000,
                     "\ufeff", "\x00", "\xe9", "?", "|\n", ">\n", "%YAML 1.1\n"]),
    max_size=40,
).map("".join)  # fmt: skip


def _parse_policy(data: bytes) -> None:
    try:
        policy = timed(lambda: parse_policy_bytes(data, ".branch-policy.yaml"))
    except PolicyError as exc:
        assert str(exc).startswith(".branch-policy.yaml")
        return
    for name in ("main", "dev", "feature-x", "task-0.1.0-20261126-a", "x" * 100):
        timed(lambda: policy.kind_of(name))  # noqa: B023


@given(POLICY_DOCS)
def test_policy_files_of_known_keys_raise_only_policy_error(doc: dict[str, Any]) -> None:
    _parse_policy(yaml.safe_dump(doc).encode())


@given(st.one_of(st.binary(max_size=300), YAML_NOISE.map(lambda t: t.encode("utf-8", "surrogatepass"))))
def test_any_policy_bytes_raise_only_policy_error(data: bytes) -> None:
    _parse_policy(data)


# ---------------------------------------------------------------------------------- task configs
KEYS = st.sampled_from(["VERSION", "DEBUG", "RESUME", "TRAIN", "TEST", "MODEL_PATH", "RANDOM_SEED", "x", "_a", "K9"])
VALUES = st.one_of(
    st.sampled_from(["0.1.0", "1.2.3-rc.1", "true", "True", "no", "off", "~", "null", "42", "-7", "007", "0x1F",
                     "0o17", "0b101", "1_000", "1:1:1", "190:20:30", "1e3", "1.5", ".inf", "-.inf", ".nan",
                     "2026-11-29", "2026-13-45", "2026-11-29 10:00:00", "'quoted'", '"q"', "[1, 2]", "{a: 1}",
                     "&a 1", "*a", "|", "-", "a:b", "x # comment", "=", "<<", "9" * 400, "1:" * 200 + "1"]),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
)  # fmt: skip
LINES = st.one_of(
    st.tuples(KEYS, st.sampled_from([": ", ":", ":  ", " : "]), VALUES).map("".join),
    st.sampled_from(["", "# comment", "  nested: 1", "- item", "---", "\t", "key:", "  "]),
)
CONFIGS = st.lists(LINES, max_size=12).map("\n".join)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@given(st.one_of(CONFIGS, st.text(max_size=200)))
def test_flatyaml_reads_what_pyyaml_reads(text: str) -> None:
    try:
        flat = timed(lambda: flatyaml.load(text))
    except (ValueError, OverflowError, TypeError):
        return  # documented: what PyYAML's constructors raise for a bad value
    if flat is None:
        return
    assert _same(flat, yaml.safe_load(text)), f"flatyaml read {flat!r}, PyYAML reads {yaml.safe_load(text)!r}"


@given(
    st.one_of(
        CONFIGS.map(str.encode), st.binary(max_size=300), YAML_NOISE.map(lambda t: t.encode("utf-8", "surrogatepass"))
    )
)
def test_task_config_problems_never_raise(content: bytes) -> None:
    found = timed(lambda: problems(content, POLICY))
    assert isinstance(found, list) and all(isinstance(p, str) for p in found)
