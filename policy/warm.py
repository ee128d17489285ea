"""The warm judge: a long-lived process per bare repository with the whole server path imported,
to which the hook's client (policy/warmclient.c, or policy/warmclient.py) hands each push over a
Unix socket.

It listens on /tmp/branch-policy-warm-<uid>/<hash of the repository's path>/judge.sock (both
directories 0700, the socket 0600, all the hook's user's; a connection from any other uid is
dropped, and the client talks only to a judge of its own uid) and hands each push to a worker:
one of a few processes forked at start that judge push after push (WORKERS), or, when all of
them are busy, a child forked for that push alone. Either takes the client's stdin, stdout and
stderr, its argv, working directory, environment and umask, and runs exactly what `policy hook
pre-receive` runs (policy.commands.hook.dispatch), under the same time budget; then it sends
back the exit code. Nothing is judged in this process itself.

Nothing read for one push (the policy on main, refs, objects) outlives it: the engine keeps
what it reads in objects of that push, the caches at module level hold pure functions of text
(commit messages, YAML scalars), and a worker puts back its directory, environment, umask and
stdio after each push. A worker serves another push only when it is exactly as clean as before
the last one: the same open descriptors, no thread and no child process left, a verdict of 0 or
1 (not an internal error or a blown time budget); otherwise, and after MAX_PUSHES pushes, it
exits and the judge forks a fresh one. Reusing workers saves each push a fork of this process
and the copy-on-write faults that follow (about 8 ms of CPU per push, more on a busy machine).

It serves only its own repository, and only clients of the same installation: a client whose
installation differs (its key: another interpreter or import paths), or any client once this
installation's files changed since the judge started (an upgrade: checked for every push), gets
"stale", and the judge exits; that push and the next are judged cold, and the
next one starts a new judge. It exits too after `idle` seconds without a push, on SIGTERM
(`policy warm stop`), and when its socket file is removed or replaced.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import stat
import struct
import sys
import time
from typing import Callable, Optional

from policy.warmclient import LOCK, PID, PROTOCOL, SOCKET, identity, judge_directory, key

STALE = 3  # a child's exit status: the client's installation is not this judge's; the judge exits
MAX_PUSHES = 1000  # a worker judges at most this many pushes, then a fresh one takes its place


def workers_wanted() -> int:
    """How many workers the judge keeps: BRANCH_POLICY_WARM_WORKERS, else twice the CPUs (a push
    mostly waits for git), between 1 and 16. 0: none, a child forked per push."""
    wanted = os.environ.get("BRANCH_POLICY_WARM_WORKERS", "")
    if wanted.strip().isdigit():
        return min(int(wanted), 64)
    return max(1, min(2 * (os.cpu_count() or 1), 16))


MARKER = "policy.warm"  # in the judge's command line (SERVE imports it): how `policy warm stop` knows it
# Environment variables that change how a cold `python -S -c ...` would run: such pushes go cold.
PYTHON_HARMLESS = frozenset({"PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX", "PYTHONUNBUFFERED"})


def private_directory(directory: str) -> Optional[str]:
    """Make the judge's directory and its parent (0700, ours, no symlinks); None if they are,
    else why they cannot be used (another user made one first: no warm judge then)."""
    for path in (os.path.dirname(directory), directory):
        with contextlib.suppress(FileExistsError):
            os.mkdir(path, 0o700)
        st = os.lstat(path)
        if not stat.S_ISDIR(st.st_mode):
            return f"{path} is not a directory"
        if st.st_uid != os.getuid():
            return f"{path} belongs to uid {st.st_uid}, not to this user ({os.getuid()})"
        if st.st_mode & 0o077:
            os.chmod(path, 0o700)
    return None


def preload() -> None:
    """Import everything the server path imports, so that a push imports nothing."""
    import importlib
    import pkgutil

    import policy.rules

    names = ["policy.commands.hook", "policy.report", "policy.config", "policy.engine", "policy.gitio",
             "policy.loading", "policy.model", "policy.verdict", "policy.judged", "policy.flatyaml",
             "policy.commitmsg", "policy.naming", "policy.patterns", "yaml", "re2", "subprocess"]  # fmt: skip
    for name in names:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    for module in pkgutil.iter_modules(policy.rules.__path__, "policy.rules."):
        with contextlib.suppress(ImportError):
            importlib.import_module(module.name)


def prewarm(directory: str) -> None:
    """Judge one made-up push before serving, in a repository made for it under the judge's own
    `directory` (removed after): a process's first judgment fills pure caches (parsed messages and
    scalars, compiled patterns) and specializes the bytecode it runs, work that each push's child
    would otherwise redo (about 2.5 ms of its CPU, a third of its copied pages). Nothing of the
    served repository is read, and the process is left as it was (cwd, environment, stdio).
    Best effort: whatever fails here, the judge serves as it would have."""
    import shutil
    import subprocess
    import tempfile

    here, env = os.getcwd(), dict(os.environ)
    streams = (sys.stdin, sys.stdout, sys.stderr, list(sys.argv))
    root = tempfile.mkdtemp(prefix="prewarm-", dir=directory)
    try:
        repo = os.path.join(root, "r.git")
        quiet = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
        who = {f"GIT_{role}_{what}": f"warm{at}" for role in ("AUTHOR", "COMMITTER")
               for what, at in (("NAME", ""), ("EMAIL", "@localhost"))}  # fmt: skip

        def git(*args: str, stdin: str = "") -> str:
            done = subprocess.run(["git", *args], cwd=root, env={**env, **quiet, **who, "GIT_DIR": repo}, input=stdin,
                                  capture_output=True, text=True, check=True, timeout=30)  # fmt: skip
            return done.stdout.strip()

        subprocess.run(["git", "init", "-q", "--bare", repo], env={**env, **quiet}, capture_output=True, check=True,
                       timeout=30)  # fmt: skip
        blob = git("hash-object", "-w", "--stdin", stdin="# warm\n")
        tree = git("mktree", stdin=f"100644 blob {blob}\tREADME.md\n")
        main = git("commit-tree", tree, "-m", "feat: initial")
        git("update-ref", "refs/heads/main", main)
        dev = git("commit-tree", tree, "-p", main, "-m", "warm")  # refused (no type): the report's path too
        with open(os.path.join(root, "lines"), "w", encoding="ascii") as handle:
            handle.write(f"{'0' * 40} {dev} refs/heads/dev\n")
        os.chdir(repo)
        os.environ.clear()
        os.environ.update({**env, **quiet, "GIT_DIR": "."})
        with open(os.path.join(root, "lines"), encoding="ascii") as lines, open(os.devnull, "w") as null:
            sys.stdin, sys.stdout, sys.stderr = lines, null, null
            judge(["pre-receive"])
    except Exception:  # a judge that could not warm up serves all the same
        pass
    finally:
        sys.stdin, sys.stdout, sys.stderr, sys.argv = streams
        os.chdir(here)
        os.environ.clear()
        os.environ.update(env)
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str]) -> int:
    """policy.warmclient.SERVE: serve(<bare repository>, <idle seconds>, <interpreter>, <import paths>...)."""
    git_dir, idle, python, paths = os.path.abspath(argv[0]), float(argv[1]), argv[2], list(argv[3:])
    return serve(git_dir, idle, paths, python)


def serve(git_dir: str, idle: float, paths: list[str], python: str) -> int:
    import fcntl
    import select

    directory = judge_directory(git_dir)
    try:
        if private_directory(directory):
            return 1
        lock = os.open(os.path.join(directory, LOCK), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0  # another judge runs (or starts) here
    me = identity(paths)  # before the imports: a file changed meanwhile makes this judge stale at once
    mine = key(python, paths)
    preload()
    import policy.loading

    policy.loading.ACROSS_PUSHES = True  # the server's settings are read again only when their files change
    prewarm(directory)
    import gc

    gc.collect()
    gc.freeze()  # what is loaded now is never collected: a push's child copies none of it by touching it
    os.chdir(directory)  # bind by a relative name: the socket's full path may be too long for an address
    with contextlib.suppress(FileNotFoundError):
        os.unlink(SOCKET)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous = os.umask(0o177)
    try:
        listener.bind(SOCKET)
    finally:
        os.umask(previous)
    os.chmod(SOCKET, 0o600)
    listener.listen(128)
    inode = os.stat(SOCKET).st_ino
    with open(PID + ".tmp", "w", encoding="ascii") as handle:
        handle.write(f"{os.getpid()}\n")
    os.replace(PID + ".tmp", PID)
    stopping: list[int] = []

    def stop(signum: int, frame: object) -> None:
        stopping.append(signum)

    wake, woken = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(woken)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop)
    workers: dict[int, socket.socket] = {}  # pid: this process's end of the worker's channel
    free: list[int] = []  # the workers waiting for a push

    def fork(target: Callable[[], None]) -> int:
        """A child that runs `target` and never returns into this loop, whatever happens in it."""
        pid = os.fork()
        if pid == 0:
            try:
                signal.set_wakeup_fd(-1)
                for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                    signal.signal(signum, signal.SIG_DFL)
                listener.close()
                for fd in (lock, wake, woken):
                    os.close(fd)
                for channel in workers.values():
                    channel.close()
                target()
            finally:
                os._exit(1)
        return pid

    def hire() -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)

        def work() -> None:
            ours.close()
            _worker(theirs, git_dir, mine, me, paths)

        pid = fork(work)
        theirs.close()
        workers[pid] = ours
        free.append(pid)

    def hand(conn: socket.socket) -> None:
        """To an idle worker, else to a child of its own."""
        while free:
            pid = free.pop()
            try:
                socket.send_fds(workers[pid], [b"P"], [conn.fileno()])
                return
            except OSError:  # it went away: forget it (a new one is hired below)
                workers.pop(pid).close()
        fork(lambda: _child(conn, git_dir, mine, me, paths))

    wanted = workers_wanted()
    last = time.monotonic()
    try:
        while not stopping:
            while len(workers) < wanted:
                hire()
            channels = {channel.fileno(): pid for pid, channel in workers.items()}
            ready, _, _ = select.select([listener.fileno(), wake, *channels], [], [], 1.0)
            for fd in ready:
                if fd in channels:  # a worker is done with its push, or gone
                    pid = channels[fd]
                    try:
                        done = workers[pid].recv(1)
                    except OSError:
                        done = b""
                    if done == b"D":
                        free.append(pid)
                    else:
                        workers.pop(pid).close()
                        with contextlib.suppress(ValueError):
                            free.remove(pid)
            if listener.fileno() in ready:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    continue
                last = time.monotonic()
                hand(conn)
                conn.close()
            if _reap():
                break
            if time.monotonic() - last > idle or not os.path.isdir(os.path.join(git_dir, "objects")):
                break  # idle, or the repository is gone
            try:
                if os.stat(SOCKET).st_ino != inode:
                    break
            except OSError:
                break
    finally:
        for channel in workers.values():  # a worker ends its push, then sees this and exits
            channel.close()
        with contextlib.suppress(OSError):
            if os.stat(SOCKET).st_ino == inode:
                os.unlink(SOCKET)
        with contextlib.suppress(OSError, ValueError), open(PID, encoding="ascii") as handle:
            if int(handle.read().strip()) == os.getpid():
                os.unlink(PID)
        listener.close()
        with contextlib.suppress(OSError):  # nothing left behind (a judge starting now makes its own)
            os.unlink(LOCK)
            os.rmdir(directory)
    return 0


def _reap() -> bool:
    """Collect finished children; True if one found this judge stale."""
    stale = False
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return stale
        if pid == 0:
            return stale
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == STALE:
            stale = True


class Request:
    """A client's request (policy.warmclient.PROTOCOL)."""

    def __init__(self, body: bytes) -> None:
        fields = body.split(b"\0")
        self.tag, self.key = fields[0], os.fsdecode(fields[1])
        self.cwd, self.umask = os.fsdecode(fields[2]), int(fields[3])
        argc = int(fields[4])
        self.argv = [os.fsdecode(a) for a in fields[5 : 5 + argc]]
        envc = int(fields[5 + argc])
        entries = fields[6 + argc :]
        if argc < 0 or envc != len(entries) or len(self.argv) != argc or not 0 <= self.umask <= 0o777:
            raise ValueError("not a request")
        self.env = {k: v for k, sep, v in (e.partition(b"=") for e in entries) if sep}


def _receive(conn: socket.socket) -> tuple[bytes, list[int]]:
    """The request's body and the client's stdin, stdout and stderr; the descriptors are closed
    again when the request is not one (a worker keeps none of them)."""
    conn.settimeout(10)
    data, fds, _, _ = socket.recv_fds(conn, 1 << 16, 3)
    try:
        if len(fds) != 3:
            raise ValueError("not a request")
        return _body(conn, data), fds
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise


def _body(conn: socket.socket, data: bytes) -> bytes:
    while len(data) < 8:
        chunk = conn.recv(1 << 16)
        if not chunk:
            raise EOFError("short request")
        data += chunk
    length = int.from_bytes(data[:8], "big")
    if length > 1 << 26:
        raise ValueError("not a request")
    body = bytearray(data[8:])
    while len(body) < length:
        chunk = conn.recv(min(1 << 20, length - len(body)))
        if not chunk:
            raise EOFError("short request")
        body += chunk
    return bytes(body)


def _locale(env: dict[bytes, bytes]) -> Optional[tuple[str, str, bool]]:
    """How a cold Python started in `env` would set up its stdio: (encoding, stdin/stdout errors,
    C locale coerced), or None when this judge cannot say (the push goes cold)."""
    name = next((env[k] for k in (b"LC_ALL", b"LC_CTYPE", b"LANG") if env.get(k)), b"").decode("ascii", "replace")
    if name in ("", "C", "POSIX"):
        return "utf-8", "surrogateescape", not env.get(b"LC_ALL")  # UTF-8 mode (PEP 538, 540)
    if name.lower().replace("-", "").endswith(".utf8"):
        return "utf-8", "strict", False
    return None


def _child(conn: socket.socket, git_dir: str, mine: str, me: str, paths: list[str]) -> None:
    """A child forked for one push."""
    _push(conn, git_dir, mine, me, paths)
    os._exit(0)


def _worker(channel: socket.socket, git_dir: str, mine: str, me: str, paths: list[str]) -> None:
    """Judge the pushes the judge hands over on `channel`, one at a time, for as long as each
    leaves this process as clean as it found it (the module's docstring); then exit."""
    null = os.open(os.devnull, os.O_RDWR)
    _let_go(null)
    saved = (os.getcwd(), dict(os.environb), sys.stdin, sys.stdout, sys.stderr, list(sys.argv))
    umask = os.umask(0o077)
    os.umask(umask)
    before = _descriptors()
    for served in range(1, MAX_PUSHES + 1):
        try:
            message, fds, _, _ = socket.recv_fds(channel, 1, 1)
        except OSError:
            break
        if message != b"P" or len(fds) != 1:
            break
        conn = socket.socket(fileno=fds[0])
        code = _push(conn, git_dir, mine, me, paths, null)
        conn.close()
        cwd, env, stdin, stdout, stderr, argv = saved
        os.chdir(cwd)
        os.umask(umask)
        set_environment(env)
        sys.stdin, sys.stdout, sys.stderr, sys.argv = stdin, stdout, stderr, argv
        if code not in (None, 0, 1) or not _clean(before) or served == MAX_PUSHES:
            break  # (no "done" for the judge: it hands this worker nothing more)
        try:
            channel.send(b"D")
        except OSError:
            break
    os._exit(0)


def set_environment(env: dict[bytes, bytes]) -> None:
    """Make os.environb exactly `env`, changing only the variables that differ (a push's client
    and the worker share most of theirs: clearing and refilling all cost 0.3 ms per push)."""
    current = os.environb
    for name in [name for name in current if name not in env]:
        del current[name]
    for name, value in env.items():
        if current.get(name) != value:
            current[name] = value


def _let_go(null: Optional[int]) -> None:
    """/dev/null (`null`) on stdin, stdout and stderr: a worker holds none of a push's pipes open
    after it, or git would wait for their end. None: a child forked for one push, which exits."""
    if null is not None:
        for fd in (0, 1, 2):
            os.dup2(null, fd)


def _descriptors() -> Optional[set[str]]:
    try:
        return set(os.listdir("/proc/self/fd"))
    except OSError:  # no /proc: only the other checks
        return None


def _clean(before: Optional[set[str]]) -> bool:
    """No descriptor, thread or child process left over from the push."""
    import threading

    if threading.active_count() != 1:
        return False
    try:
        os.waitpid(-1, os.WNOHANG)
        return False  # a child still runs, or one was left unreaped
    except ChildProcessError:
        pass
    return before is None or _descriptors() == before


def _push(
    conn: socket.socket, git_dir: str, mine: str, me: str, paths: list[str], null: Optional[int] = None
) -> Optional[int]:
    """One push: check the request, take it (b"A"), judge it, send b"X" and the exit code; the
    exit code (None if the push was not taken). Nothing is read from the client's stdin before its
    b"A" is sent: a client that gave up waiting shut its side of the socket first (the send fails),
    and it judges the push itself. A client of another installation (`mine`: its
    key), or any once this installation's files are no longer those the judge started from
    (`me`), is answered b"S" (stale), and this process exits STALE: the judge exits too. `null`:
    put /dev/null back on stdin, stdout and stderr before the verdict is sent (a worker lives on:
    git must see the hook's output end)."""
    try:
        credentials = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        uid = struct.unpack("3i", credentials)[1]
        if uid != os.getuid():
            return None
        body, fds = _receive(conn)
    except Exception:  # not a client of ours: the client, if any, sees the connection close and goes cold
        return None
    stale = not body.startswith(PROTOCOL + b"\0")  # another protocol: another installation's client
    if not stale:
        try:
            request = Request(body)
        except (ValueError, IndexError):
            for fd in fds:
                os.close(fd)
            return None
        stale = request.key != mine or identity(paths) != me
    if stale:
        with contextlib.suppress(OSError):
            conn.sendall(b"S")
        os._exit(STALE)
    argv, cwd, env, umask = request.argv, request.cwd, request.env, request.umask
    stdio = _locale(env)
    try:
        here = os.path.samefile(os.path.join(cwd, os.fsdecode(env.get(b"GIT_DIR", b"."))), git_dir)
    except OSError:
        here = False
    odd = [k for k in env if k.startswith(b"PYTHON") and os.fsdecode(k) not in PYTHON_HARMLESS]
    if not here or stdio is None or odd:  # another repository, or a start this judge cannot mimic
        for fd in fds:
            os.close(fd)
        with contextlib.suppress(OSError):
            conn.sendall(b"C")
        return None
    encoding, errors, coerced = stdio
    os.chdir(cwd)
    os.umask(umask)
    set_environment(env)
    if coerced:
        os.environ["LC_CTYPE"] = "C.UTF-8"
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding, errors)
    unbuffered = bool(env.get(b"PYTHONUNBUFFERED"))  # python -u: nothing waits in a buffer
    for fd, name in ((1, "stdout"), (2, "stderr")):
        raw = io.FileIO(fd, "w", closefd=False)
        binary = raw if unbuffered else io.BufferedWriter(raw)
        text = io.TextIOWrapper(
            binary,  # type: ignore[arg-type]
            encoding,
            errors if fd == 1 else "backslashreplace",
            line_buffering=fd == 2 and not unbuffered,  # stderr is line-buffered, as Python's own
            write_through=unbuffered,
        )
        setattr(sys, name, text)
    sys.argv = ["-c", *argv]
    try:
        conn.sendall(b"A")
    except OSError:  # the client stopped waiting and shut its side first: it has the push, unread
        _let_go(null)
        return None
    code = judge(argv)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    _let_go(null)
    with contextlib.suppress(OSError):
        conn.sendall(b"X" + bytes([code & 0xFF]))
    return code


def judge(argv: list[str]) -> int:
    """What `policy hook ...` runs (the cold path's FAST_START: main(), SystemExit)."""
    from policy.commands.hook import dispatch

    try:
        return int(dispatch(argv))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException as exc:  # never a traceback, never a pass
        prefix = "GL-HOOK-ERR: " if os.environ.get("GL_ID") or os.environ.get("GL_PROTOCOL") else ""
        with contextlib.suppress(Exception):
            print(f"{prefix}branch-policy: internal error, push refused (fail closed): {type(exc).__name__}: {exc}",
                  file=sys.stderr)  # fmt: skip
        return 2


# -- policy warm start / stop / status ------------------------------------------------------------


def judge_pid(git_dir: str) -> Optional[int]:
    """The pid of the judge serving this repository, if one runs (its pid file, checked against
    the process's command line)."""
    from policy.warmclient import read_pid, running

    directory = judge_directory(os.path.abspath(git_dir))
    pid = read_pid(directory)
    if pid is None or not running(directory):
        return None
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            words = handle.read().split(b"\0")
    except OSError:
        return pid  # no /proc: the lock and the pid file say it
    return pid if any(MARKER.encode() in w for w in words) else None


def stop_judge(git_dir: str, timeout: float = 10.0) -> Optional[int]:
    """SIGTERM the repository's judge and wait until it is gone; its pid, or None if none ran."""
    pid = judge_pid(git_dir)
    if pid is None:
        return None
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.02)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return pid


def _alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # our own child (tests start judges directly): reap it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True
