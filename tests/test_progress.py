"""A check over a long range shows how many commits it has walked, on stderr when that is a
terminal, and nothing otherwise."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

from conftest import ZERO, policy_cmd


def history(path: Path, commits: int) -> None:
    """`commits` commits on main, in one git fast-import."""
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    stream = []
    for n in range(1, commits + 1):
        message = f"feat: step {n}\n".encode()
        stream.append(b"commit refs/heads/main\nmark :%d\ncommitter R <r@example.com> %d +0000\n" % (n, 1700000000 + n))
        stream.append(b"data %d\n%s" % (len(message), message))
        if n > 1:
            stream.append(b"from :%d\n" % (n - 1))
        stream.append(b"M 644 inline f.txt\ndata %d\n%d\n\n" % (len(str(n)) + 1, n))
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=b"".join(stream), check=True)


def test_progress_on_a_terminal_only(tmp_path: Path) -> None:
    repo = tmp_path / "long"
    history(repo, 600)
    argv = policy_cmd("check", "--ref", "refs/heads/main", "--old", ZERO, "--new", "main")
    piped = subprocess.run(argv, cwd=repo, capture_output=True, text=True)
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == ""  # not a terminal: not a byte of progress

    leader, follower = pty.openpty()
    proc = subprocess.Popen(argv, cwd=repo, stdout=subprocess.PIPE, stderr=follower)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert proc.wait() == 0
    assert proc.stdout and proc.stdout.read() == piped.stdout.encode()  # the verdict is the same
    assert b"\rbranch-policy: 600 commits walked" in seen, seen
    assert seen.endswith(b"\r\x1b[K")  # and the line is cleared for what follows
