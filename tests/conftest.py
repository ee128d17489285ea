"""Real git, never mocked: every test builds real repositories in a temporary directory, makes real
commits and pushes into a real bare repository whose pre-receive hook was installed by
`policy install --server`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple, Optional

import pytest

ZERO = "0" * 40
CONFIG = """VERSION: {version}
DEBUG: false
RESUME: null
TRAIN: true
TEST: false
MODEL_PATH: null
RANDOM_SEED: 42
LEARNING_RATE: 0.001
"""


# POLICY_TEST_HOOK=warm runs the suite against the warm judge (policy/warm.py): every server hook
# hands its pushes to its repository's judge, which the first push starts and waits for
# (BRANCH_POLICY_WARM=wait); the summary says how many pushes were judged warm and cold. cold (the
# default): BRANCH_POLICY_WARM=off, every push is judged by a process of its own
# (tests/test_warm.py turns the judge on for its own tests). No judge outlives its test.
HOOK_MODE = os.environ.get("POLICY_TEST_HOOK", "cold")
if HOOK_MODE not in ("warm", "cold"):
    raise pytest.UsageError(f"POLICY_TEST_HOOK={HOOK_MODE}: warm or cold")
os.environ["BRANCH_POLICY_WARM"] = "off" if HOOK_MODE == "cold" else "wait"
WORKER = bool(os.environ.get("PYTEST_XDIST_WORKER"))  # pytest -n: the controller sums up its workers' pushes
if HOOK_MODE == "warm" and WORKER and os.environ.get("BRANCH_POLICY_WARM_LOG"):
    WARM_LOG = os.environ["BRANCH_POLICY_WARM_LOG"]  # the controller's
elif HOOK_MODE == "warm":
    import tempfile

    handle, WARM_LOG = tempfile.mkstemp(prefix="branch-policy-warm-log-", suffix=".txt")
    os.close(handle)
    os.environ["BRANCH_POLICY_WARM_LOG"] = WARM_LOG


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Warm mode: how the suite's pushes were judged (warm, or cold and why)."""
    if HOOK_MODE != "warm" or WORKER:
        return
    from collections import Counter

    with open(WARM_LOG, encoding="utf-8", errors="replace") as handle:
        hows = Counter(line.split(" /", 1)[0] for line in handle)
    warm = sum(n for how, n in hows.items() if how.startswith("warm"))
    passed = sum(n for how, n in hows.items() if how.startswith("cold (native)"))  # then the Python client
    terminalreporter.write_line(f"warm judge: {warm} pushes judged warm, {sum(hows.values()) - warm - passed} cold")
    for how, n in hows.most_common():
        terminalreporter.write_line(f"  {n:6d}  {how}")
    os.unlink(WARM_LOG)


def warm_judges(under: Path) -> list[int]:
    """The pids of the warm judges serving a repository under `under` (their command lines)."""
    found: list[int] = []
    try:
        if not os.listdir(f"/tmp/branch-policy-warm-{os.getuid()}"):  # where each judge keeps its socket
            return found
    except OSError:
        return found
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                words = handle.read().split(b"\0")
        except OSError:
            continue
        if any(b"policy.warm import main" in w for w in words) and any(w.startswith(bytes(under)) for w in words):
            found.append(int(entry))
    return found


def stop_warm_judges(under: Path) -> None:
    import signal
    import time

    for pid in warm_judges(under):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                with open(f"/proc/{pid}/stat", "rb") as handle:
                    if handle.read().rsplit(b")", 1)[-1].split()[:1] == [b"Z"]:
                        break
            except OSError:
                break
            time.sleep(0.01)


@pytest.fixture(autouse=True, scope="session")
def no_warm_judge_left(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    yield
    base = tmp_path_factory.getbasetemp()
    stop_warm_judges(base)
    import time

    time.sleep(0.3)  # one that a push started just now may still be on its way to exec
    stop_warm_judges(base)


@pytest.fixture(autouse=True)
def warm_judges_stopped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The judges a test's pushes started end with it (each holds ~30 MB)."""
    yield
    stop_warm_judges(tmp_path_factory.getbasetemp())


@pytest.fixture(autouse=True)
def git_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A private global git config: fixed identity, main as the default branch, no user hooks."""
    home = tmp_path_factory.mktemp("home")
    config = home / "gitconfig"
    config.write_text(
        "[user]\n\tname = Researcher\n\temail = researcher@example.com\n"
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
        '[protocol "file"]\n\tallow = always\n'
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("HOME", str(home))
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GL_ID", "GL_PROTOCOL", "BRANCH_POLICY_FILE",
                 "GITHUB_ACTIONS", "GITLAB_CI"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


class Result(NamedTuple):
    code: int
    out: str

    @property
    def ok(self) -> bool:
        return self.code == 0


def run(args: list[str], cwd: Path, input: Optional[str] = None, env: Optional[dict[str, str]] = None) -> Result:
    proc = subprocess.run(
        args, cwd=cwd, input=input, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    return Result(proc.returncode, proc.stdout)


def policy_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "policy", *args]


class Repo:
    """A working clone: commit files, switch branches, push, ask the CLI."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def git(self, *args: str, check: bool = True, input: Optional[str] = None) -> str:
        result = run(["git", *args], self.path, input=input)
        if check and not result.ok:
            raise AssertionError(f"git {' '.join(args)} failed:\n{result.out}")
        return result.out.strip()

    def sha(self, rev: str = "HEAD") -> str:
        return self.git("rev-parse", rev)

    def write(self, files: dict[str, str | bytes | None]) -> None:
        for name, content in files.items():
            path = self.path / name
            if content is None:
                self.git("rm", "-q", "--", name)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
            self.git("add", "--", name)

    def commit(self, message: str, files: Optional[dict[str, str | bytes | None]] = None, *flags: str) -> str:
        self.write(files or {})
        self.git("commit", "-q", "--allow-empty", "--no-verify", "-m", message, *flags)
        return self.sha()

    def branch(self, name: str, start: str = "HEAD") -> None:
        self.git("checkout", "-q", "-b", name, start)

    def checkout(self, name: str) -> None:
        self.git("checkout", "-q", name)

    def merge(self, source: str, message: str, *flags: str) -> str:
        self.git("merge", "-q", "--no-verify", "--no-ff", source, "-m", message, *flags)
        return self.sha()

    def push(self, *refspecs: str) -> Result:
        return run(["git", "push", "--porcelain", "origin", *refspecs], self.path)

    def policy(self, *args: str, env: Optional[dict[str, str]] = None) -> Result:
        return run(policy_cmd(*args), self.path, env=env)


def hook_script(server: Path) -> Path:
    """The server's hook script: hooks/pre-receive, or beside it when the native client is the hook."""
    hooks = server / "hooks"
    beside = hooks / "branch-policy-pre-receive"
    native = beside.exists() and not (hooks / "pre-receive").read_bytes().startswith(b"#!")
    return beside if native else hooks / "pre-receive"


class World:
    """A bare 'server' with the hook installed and a clone of it."""

    def __init__(self, root: Path, hook: bool = True) -> None:
        self.root = root
        self.server = root / "server.git"
        run(["git", "init", "-q", "--bare", str(self.server)], root)
        if hook:
            result = run(policy_cmd("install", "--server", str(self.server)), root)
            assert result.ok, result.out
        run(["git", "clone", "-q", str(self.server), "work"], root)
        self.work = Repo(root / "work")

    def clone(self, name: str) -> Repo:
        run(["git", "clone", "-q", str(self.server), name], self.root)
        return Repo(self.root / name)

    def server_sha(self, ref: str) -> Optional[str]:
        result = run(["git", "rev-parse", "--verify", "-q", ref], self.server)
        return result.out.strip() if result.ok else None


def config(version: str = "0.1.0", **changes: object) -> str:
    text = CONFIG.format(version=version)
    for key, value in changes.items():
        text = "\n".join(f"{key}: {value}" if line.startswith(f"{key}:") else line for line in text.splitlines())
        text += "\n"
    return text


def seed(world: World, version: str = "0.1.0") -> Repo:
    """main (config + core code) and dev, both on the server: the seed's step 1."""
    repo = world.work
    repo.commit(
        "feat: initial model and task layout",
        {"tasks/main/config.yaml": config(version), "tasks/main/train.py": "print('train')\n",
         "src/model.py": "class Model:\n    pass\n", "README.md": "# research\n"},
    )  # fmt: skip
    assert repo.push("main").ok
    repo.branch("dev")
    assert repo.push("dev").ok
    return repo


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


@pytest.fixture
def seeded(world: World) -> Iterator[tuple[World, Repo]]:
    yield world, seed(world)


def refused(result: Result, rule: str) -> bool:
    """The push was refused and the refusal names `rule`."""
    return not result.ok and any(line.split()[1:2] == [rule] for line in result.out.splitlines() if "remote:" in line)


@pytest.fixture(scope="session")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One `git daemon` on 127.0.0.1 for the session, serving every test's server.git."""
    from servers import git_daemon

    base = tmp_path_factory.getbasetemp()
    with git_daemon(base, env={"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}) as running:
        yield running


@pytest.fixture(params=["path", "git-daemon"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[World, Repo]]:
    """`seeded`, with the clone pushing by path or through a real `git daemon` (git://)."""
    world = World(tmp_path)
    if request.param == "git-daemon":
        daemon = request.getfixturevalue("daemon")
        world.work.git("remote", "set-url", "origin", daemon.url(world.server))  # type: ignore[attr-defined]
    yield world, seed(world)


# Hypothesis: `ci` (the default: a fixed set of cases, the same on every run) and `nightly` (many
# more, new ones each run): POLICY_HYPOTHESIS_PROFILE=nightly python -m pytest ...
try:
    from hypothesis import HealthCheck, settings

    _SLOW_OK = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large]
    # ci: one failure shrunk (a case is a repository: shrinking several would cost minutes)
    settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True, database=None,
                              suppress_health_check=_SLOW_OK, print_blob=True, report_multiple_bugs=False)  # fmt: skip
    # nightly: POLICY_HYPOTHESIS_EXAMPLES cases (3,000 unless it says otherwise), new ones each run
    nightly = int(os.environ.get("POLICY_HYPOTHESIS_EXAMPLES", "3000"))
    settings.register_profile("nightly", max_examples=nightly, deadline=None, suppress_health_check=_SLOW_OK,
                              print_blob=True)  # fmt: skip
    settings.load_profile(os.environ.get("POLICY_HYPOTHESIS_PROFILE", "ci"))
except ImportError:  # only the property tests need it
    pass


@pytest.fixture
def warm_judge_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The warm judge whatever POLICY_TEST_HOOK says, and each push's way logged (read by hows)."""
    monkeypatch.delenv("BRANCH_POLICY_WARM", raising=False)
    monkeypatch.setenv("BRANCH_POLICY_WARM_LOG", str(tmp_path / "warm.log"))


def hows(tmp_path: Path) -> list[str]:
    """How the pushes since the last call went, a line per client: `warm: 0 (native)`, `cold: no judge`..."""
    log = tmp_path / "warm.log"
    lines = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return [line.split(" /", 1)[0] for line in lines]
