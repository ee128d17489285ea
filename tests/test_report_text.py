"""What a person reads: one line per mistake with a short sha (or "staged" before the commit exists),
the hint on an indented line of its own, wrapped to the terminal; colour on a terminal only, never
with NO_COLOR; `--format json` as before."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

from conftest import Repo, World, run

ESC = "\x1b["


def commit_on_a_terminal(repo: Repo, env: dict[str, str]) -> str:
    """A real `git commit` whose hooks write to a pseudo-terminal; what the terminal shows."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(["git", "commit", "-q", "-m", "feat: weights"], cwd=repo.path, stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=slave, env={**os.environ, **env})  # fmt: skip
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait()
    os.close(master)
    assert proc.returncode != 0
    return b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


def test_client_text_on_a_terminal_and_off_it(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    assert run([sys.executable, "-m", "policy", "install"], repo.path).ok
    repo.branch("feature-w", "dev")
    (repo.path / "w.pt").write_bytes(b"\0" * 10)
    repo.git("add", "w.pt")
    path = {"PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}"}

    shown = commit_on_a_terminal(repo, {**path, "COLUMNS": "60"})
    assert f"{ESC}1;31mlarge-file{ESC}0m  staged  {ESC}36mw.pt{ESC}0m" in shown, shown
    hint = [line for line in shown.splitlines() if line.startswith(("    hint: ", "          "))]
    assert len(hint) > 1 and all(len(line) <= 60 for line in hint), shown
    assert "-------" not in shown

    plain = commit_on_a_terminal(repo, {**path, "NO_COLOR": "1", "COLUMNS": "60"})
    assert ESC not in plain and "large-file  staged  w.pt  " in plain

    piped = run(["git", "commit", "-q", "-m", "feat: weights"], repo.path, env=path)
    assert not piped.ok and ESC not in piped.out
    lines = piped.out.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("large-file  staged  w.pt  "))
    assert lines[first + 1].startswith("    hint: ") and "`git rm -q --cached w.pt && dvc add" in lines[first + 1]


def test_check_json_is_unchanged(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.commit("bad message", {"src/z.py": "z = 1\n"})
    result = subprocess.run([sys.executable, "-m", "policy", "check", "--format", "json"], cwd=repo.path,
                            capture_output=True, text=True)  # fmt: skip
    data = json.loads(result.stdout)
    assert result.returncode == 1 and data["ok"] is False and data["judged"] == 1
    [v] = data["violations"]
    assert set(v) == {"rule", "ref", "commit", "path", "message", "hint"} and len(v["commit"]) == 40
