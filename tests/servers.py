"""Real git servers on 127.0.0.1 for the tests: git daemon, OpenSSH, Apache + git-http-backend,
nginx + fcgiwrap. Each listens on a free port of the loopback interface only and is stopped by
the fixture that started it. The Debian packages they need are looked up, never assumed."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Optional

import pytest

GIT_DAEMON = "/usr/lib/git-core/git-daemon"
HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, proc: subprocess.Popen, log: Path, timeout: float = 15.0) -> None:
    """Until something accepts connections on 127.0.0.1:port; fails with the server's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{proc.args[0]} stopped ({proc.returncode}):\n{log.read_text(errors='replace')}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"{proc.args[0]} did not listen on 127.0.0.1:{port}:\n{log.read_text(errors='replace')}")


@contextmanager
def serving(argv: Sequence[str], port: int, log: Path, env: Optional[dict[str, str]] = None) -> Iterator[None]:
    """Run a server in its own process group until the block ends, then stop the whole group."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            list(argv), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})}, start_new_session=True,
        )  # fmt: skip
    try:
        wait_for(port, proc, log)
        yield
    finally:
        with_group = proc.pid
        try:
            os.killpg(with_group, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with suppress(ProcessLookupError):
                os.killpg(with_group, signal.SIGKILL)
            proc.wait()


class Daemon:
    """`git daemon` serving every repository under `base` (read and push) on 127.0.0.1:port."""

    def __init__(self, base: Path, port: int) -> None:
        self.base, self.port = base, port

    def url(self, repository: Path) -> str:
        return f"git://127.0.0.1:{self.port}/{repository.relative_to(self.base)}"


def daemon_argv(base: Path, port: int, *extra: str) -> list[str]:
    return [
        GIT_DAEMON, "--listen=127.0.0.1", f"--port={port}", f"--base-path={base}", "--export-all",
        "--enable=receive-pack", "--reuseaddr", "--informative-errors", *extra,
    ]  # fmt: skip


@contextmanager
def git_daemon(base: Path, *extra: str, env: Optional[dict[str, str]] = None) -> Iterator[Daemon]:
    port = free_port()
    with serving(daemon_argv(base, port, *extra), port, base / f"git-daemon-{port}.log", env):
        yield Daemon(base, port)


def need(*programs: str) -> list[str]:
    """Absolute paths of the programs, or skip naming the Debian packages that provide them."""
    packages = {
        "sshd": "openssh-server",
        "ssh-keygen": "openssh-client",
        "apache2": "apache2",
        "htpasswd": "apache2-utils",
        "nginx": "nginx",
        "fcgiwrap": "fcgiwrap",
        "gitolite": "gitolite3",
    }
    found = []
    for program in programs:
        path = shutil.which(program, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/usr/bin:/sbin")
        if path is None:
            pytest.skip(f"{program} is not installed (apt-get install {packages.get(program, program)})")
        found.append(path)
    if os.geteuid() != 0:
        pytest.skip("these servers are started as root (they switch to their own users)")
    return found
