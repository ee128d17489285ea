"""The fast config reader gives exactly what yaml.safe_load gives, or declines (None)."""

from __future__ import annotations

import datetime
import random

import pytest
import yaml

from policy import flatyaml

VALUES = [
    "0.1.0", "1.0", "1", "-1", "+1", "0x1f", "0o17", "017", "0b101", "1_000", "1:30", "1e3", "1.5e-3", ".5",
    ".inf", "-.inf", ".nan", "true", "True", "TRUE", "false", "yes", "No", "on", "OFF", "y", "n", "null", "Null",
    "~", "", "2026-01-31", "2026-01-31T10:20:30Z", "2026-13-45", "abc", "a:b", "a:", "-", "-x", "./models/best.pt",
    "models/best.pt", "x#y", "'q'", '"q"', "[1, 2]", "{a: 1}", "&a x", "*a", "!!str 1", "|", ">", "?x", "@x", "%x",
    "a b", "1.0.0-rc1", "123456789012345678901234567890", "0.", "-0", "+.5",
]  # fmt: skip
KEYS = ["VERSION", "lr", "true", "yes", "null", "_x", "A1", "a-b", "1", "k y", "é"]
COMMENTS = ["", "  # comment", " #c", "# not a comment?", "   "]


def reference(text: str):  # type: ignore[no-untyped-def]
    try:
        return ("ok", yaml.load(text, Loader=yaml.SafeLoader))
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        return ("error", type(exc))


def fast(text: str):  # type: ignore[no-untyped-def]
    try:
        return ("ok", flatyaml.load(text))
    except (ValueError, OverflowError) as exc:
        return ("error", type(exc))


def same(text: str) -> bool:
    got = fast(text)
    if got == ("ok", None):  # declined: PyYAML decides
        return True
    want = reference(text)
    if got[0] != want[0]:
        return False
    if got[0] == "error":
        return True
    a, b = got[1], want[1]
    return a == b and all(type(a[k]) is type(b[k]) or (a[k] != a[k]) for k in b) if isinstance(b, dict) else False


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("comment", COMMENTS)
def test_each_value_reads_as_pyyaml_reads_it(value: str, comment: str) -> None:
    text = f"# run config\nVERSION: 0.1.0\nVALUE: {value}{comment}\n"
    assert same(text), (text, fast(text), reference(text))


@pytest.mark.parametrize("key", KEYS)
def test_keys_resolve_as_pyyaml_resolves_them(key: str) -> None:
    text = f"{key}: 1\nother: 2\n"
    assert same(text), (text, fast(text), reference(text))


def test_random_files_agree() -> None:
    rng = random.Random(20261126)
    pieces = [*VALUES, "x", "0.001", "42"]
    for _ in range(3000):
        lines = []
        for _ in range(rng.randint(0, 8)):
            shape = rng.random()
            if shape < 0.7:
                lines.append(
                    f"{rng.choice(KEYS)}:{rng.choice([' ', '  ', ''])}{rng.choice(pieces)}{rng.choice(COMMENTS)}"
                )
            elif shape < 0.8:
                lines.append(rng.choice(["", "  ", "# c", "---", "  nested: 1", "- item", "\ttab: 1", "a:\r"]))
            else:
                lines.append(rng.choice(["KEY:value", "KEY :v", "KEY: v: w", "KEY: 中文", "# 中文注释", "KEY: \x85"]))
        text = "\n".join(lines) + rng.choice(["", "\n"])
        assert same(text), (text, fast(text), reference(text))


def test_the_usual_config_is_read_by_the_fast_path() -> None:
    text = (
        "# 任务参数\nVERSION: 0.1.0\nDEBUG: false\nRESUME: null\nTRAIN: true\nTEST: false\n"
        "MODEL_PATH: null\nRANDOM_SEED: 42\nLR: 0.001  # lr\n"
    )
    assert flatyaml.load(text) == yaml.safe_load(text)
    assert flatyaml.load("DAY: 2026-01-31\n") == {"DAY": datetime.date(2026, 1, 31)}
    assert flatyaml.load("a: [1]\n") is None and flatyaml.load("") is None


def _pyyaml_plain(text: str):  # type: ignore[no-untyped-def]
    """PyYAML's own reading of `text` as a plain scalar: its resolver, then its constructor."""
    resolver, constructor = yaml.resolver.Resolver(), yaml.constructor.SafeConstructor()
    tag = resolver.resolve(yaml.ScalarNode, text, (True, False))
    try:
        return ("ok", constructor.yaml_constructors[tag](constructor, yaml.ScalarNode(tag, text)))
    except (ValueError, OverflowError) as exc:
        return ("error", type(exc))


def test_scalars_read_without_pyyaml_are_read_as_pyyaml_reads_them() -> None:
    """Bools, nulls, decimal numbers and unclaimed words skip the PyYAML import; each must come
    out exactly (value and type) as PyYAML's resolver and constructor make it."""
    rng = random.Random(27)
    words = [w for base in ("yes", "no", "true", "false", "on", "off", "null", "y", "n", "nan", "inf")
             for w in (base, base.title(), base.upper(), base.capitalize() + "x")]  # fmt: skip
    alphabet = "0123456789+-._:eEoxbyYnNtTfF~<=aZ "
    samples = [*VALUES, *words, "0", "-0", "+0", "00", "1_0", "0.0", "-0.0", "1.", ".1", "1e5", "1.0e+5", "9" * 400]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))).strip() for _ in range(20000)]
    claimed = 0
    for text in samples:
        got = flatyaml._plain(text)
        if got is flatyaml._UNKNOWN:
            continue
        claimed += 1
        want = _pyyaml_plain(text)
        assert want[0] == "ok" and want[1] == got and type(want[1]) is type(got), (text, got, want)
    assert claimed > 1000  # the fast path is exercised, not skipped


def test_the_usual_config_does_not_import_pyyaml() -> None:
    code = (
        "import sys; from policy import flatyaml\n"
        "data = flatyaml.load('VERSION: 0.1.0\\nDEBUG: false\\nRESUME: null\\nSEED: 42\\nLR: 0.001\\nNET: res\\n')\n"
        "assert data == {'VERSION': '0.1.0', 'DEBUG': False, 'RESUME': None, 'SEED': 42, 'LR': 0.001, 'NET': 'res'}\n"
        "assert 'yaml' not in sys.modules, 'imported PyYAML'\n"
    )
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
