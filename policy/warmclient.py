"""The warm judge's Python client: what the server hook runs when its native client (warmclient.c,
compiled into the hooks directory by `policy install --server`) could not hand the push over: no
judge runs (this one starts it), no C compiler was there at install, the binary is missing or broken.
Both speak the same protocol (PROTOCOL, below).

It starts with `python -S -I` and imports nothing but the standard library's built-in modules
(not even contextlib, which would pull in collections and functools: 5 ms on every push), so it
is up in a few milliseconds. It hands the push to the warm judge of this repository
(policy/warm.py) over a Unix socket: its own stdin, stdout and stderr go along as file
descriptors (the judge reads git's lines and writes its verdict on them directly, as the cold
path would), with argv, the working directory, the whole environment and the umask. The judge
answers with one byte when it takes the push and with the exit code when it is done.

main() returns the verdict's exit code, or COLD when the push must be judged the ordinary way
(`python -m policy hook pre-receive`, the cold path): no judge, a judge of another installation
or of an older copy of this one (stale: it exits), or one that declines this push. COLD is only
ever returned before the judge took the push, so git's lines on stdin are still unread. A judge
that stops after it took the push, or answers nonsense, refuses the push with one line.
"""

from __future__ import annotations

import _socket  # built in: costs the client nothing to import
import os
import sys

COLD = 75  # "judge it cold": the hook script runs the ordinary path on the same, unread stdin
BASE = "/tmp/branch-policy-warm-{uid}"  # the user's own (0700); a directory per repository in it
SOCKET = "judge2.sock"  # of PROTOCOL 2 (a judge of protocol 1 left running after an upgrade idles out)
LOCK = "lock"
PID = "pid"
ACK_SECONDS = 20.0  # a judge that took the connection but does not say so in this time is stuck
PROTOCOL = b"branch-policy-warm 2"
# The request, as both clients (this one and warmclient.c) send it: its length (8 bytes, big-endian),
# then NUL-separated fields: PROTOCOL, key, cwd, umask (decimal), argc, argv..., envc, env (K=V)...
# The key is the installation the hook was written for: its interpreter and import paths, one a line.


def package_dir() -> str:
    return os.path.dirname(os.path.abspath(__file__))


def key(python: str, paths: list[str]) -> str:
    """The installation a hook was written for, as its clients send it: the judge serves no other."""
    return "\n".join([python, *paths])


def identity(paths: list[str]) -> str:
    """This installation as it is on disk now: the interpreter (and its file), the package's every
    source file (name, size, mtime) and the directories its dependencies come from (a pip install
    there changes their mtime). The judge computes it when it starts and again for each push: it
    is stale when they differ (an upgrade)."""
    parts = [sys.executable, sys.version, ",".join(paths)]
    try:
        st = os.stat(sys.executable)  # the interpreter's own file, replaced by an upgrade of Python
        parts.append(f"{st.st_size}:{st.st_mtime_ns}")
    except OSError:
        parts.append("-")
    for path in paths:
        try:
            parts.append(f"{path}:{os.stat(path).st_mtime_ns}")
        except OSError:
            parts.append(f"{path}:-")
    root = package_dir()
    todo = [root]
    while todo:
        current = todo.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name == "__pycache__":
                continue
            if entry.is_dir(follow_symlinks=False):
                todo.append(entry.path)
            elif entry.name.endswith(".py"):
                st = entry.stat()
                parts.append(f"{entry.path[len(root) :]}:{st.st_size}:{st.st_mtime_ns}")
    return "\n".join(parts)


def repository() -> str:
    """The bare repository the hook runs in (git sets GIT_DIR for hooks, relative to the cwd)."""
    return os.path.abspath(os.environ.get("GIT_DIR") or ".")


def judge_directory(git_dir: str) -> str:
    """Where the judge of this repository keeps its socket, lock and pid file: outside the
    repository (which gets copied, backed up, served over NFS), in this user's directory under
    /tmp, named after the repository's real path."""
    import zlib

    real = os.fsencode(os.path.realpath(git_dir))
    return os.path.join(BASE.format(uid=os.getuid()), f"{zlib.crc32(real):08x}{zlib.adler32(real):08x}")


def _connect(sock: object, directory: str) -> None:
    """connect() by the socket's path; by a relative name from its directory when the path is
    longer than a Unix socket address allows (about 107 bytes)."""
    path = os.path.join(directory, SOCKET)
    if len(os.fsencode(path)) < 100:
        sock.connect(path)  # type: ignore[attr-defined]
        return
    here = os.open(".", os.O_RDONLY)
    try:
        os.chdir(directory)
        sock.connect(SOCKET)  # type: ignore[attr-defined]
    finally:
        os.fchdir(here)
        os.close(here)


def disabled() -> bool:
    """BRANCH_POLICY_WARM=off: every push is judged cold (the hook script checks it first)."""
    return os.environ.get("BRANCH_POLICY_WARM") == "off"


def main(argv: list[str], paths: list[str], idle: float, python: str | None = None) -> int:
    """Judge the push through the warm judge (its exit code), or COLD. `python` and `paths` are the
    installation the hook was written for (the interpreter, this one unless said; the import
    paths). BRANCH_POLICY_WARM=wait: a push that finds no judge starts one and waits for it (at
    most 30 s) instead of going cold. BRANCH_POLICY_WARM_LOG=FILE: one line per push there, how it
    was judged (warm, or cold and why)."""
    if disabled() or idle <= 0:
        return COLD
    code, how = _main(argv, paths, idle, python or sys.executable)
    log = os.environ.get("BRANCH_POLICY_WARM_LOG")
    if log:
        try:
            fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.write(fd, f"{how} {os.getcwd()}\n".encode(errors="replace"))
            os.close(fd)
        except OSError:
            pass
    return code


def request(tag: bytes, key: str, argv: list[str], cwd: str, env: dict[bytes, bytes], umask: int) -> bytes:
    """The request as sent (PROTOCOL, above): its length, then its fields."""
    fields = [tag, os.fsencode(key), os.fsencode(cwd), b"%d" % umask, b"%d" % len(argv), *map(os.fsencode, argv)]
    fields += [b"%d" % len(env), *(k + b"=" + v for k, v in env.items())]
    body = b"\0".join(fields)
    return len(body).to_bytes(8, "big") + body


def _main(argv: list[str], paths: list[str], idle: float, python: str) -> tuple[int, str]:
    try:
        git_dir = repository()
        directory = judge_directory(git_dir)
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            _connect(sock, directory)
        except OSError:  # none there (no socket, a stale socket file, a judge that just left)
            waited = os.environ.get("BRANCH_POLICY_WARM") == "wait" and start(git_dir, paths, idle, 30, python)
            if not waited:
                sock.close()
                start(git_dir, paths, idle, python=python)
                return COLD, "cold: no judge (one starts)"
            _connect(sock, directory)
        credentials = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)
        if int.from_bytes(credentials[4:8], sys.byteorder) != os.getuid():  # a judge of ours, no one else's
            sock.close()
            return COLD, "cold: the socket is another user's"
        umask = os.umask(0o077)
        os.umask(umask)
        message = request(PROTOCOL, key(python, paths), list(argv), os.getcwd(), dict(os.environb), umask)
        fds = b"".join(fd.to_bytes(4, sys.byteorder, signed=True) for fd in (0, 1, 2))
        sock.settimeout(ACK_SECONDS)
        sent = sock.sendmsg([message], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds)])
        if sent < len(message):
            sock.sendall(message[sent:])
        answer = sock.recv(1)
    except TimeoutError:  # no answer in time: close the door, then look once more (gave_up)
        if gave_up(sock) != b"A":
            return COLD, "cold: no answer"
        late = f"took the push only after the hook stopped waiting for it ({ACK_SECONDS:g} s)"
        return refuse(f"the warm judge of this repository {late}"), "warm: refused"
    except Exception as exc:  # before the judge took the push: stdin is unread, the cold path judges it
        return COLD, f"cold: {type(exc).__name__}: {exc}"
    if answer != b"A":  # S: stale (it exits), C: declined, b"": it went away before taking the push
        sock.close()
        return COLD, {b"S": "cold: stale judge", b"C": "cold: declined"}.get(answer, f"cold: answer {answer!r}")
    # The judge has the push: from here on, only its verdict counts, and no verdict refuses.
    try:
        sock.settimeout(None)
        data = b""
        while len(data) < 2:
            chunk = sock.recv(2 - len(data))
            if not chunk:
                break
            data += chunk
    except Exception as exc:
        return refuse(f"the warm judge's answer could not be read ({type(exc).__name__}: {exc})"), "warm: refused"
    if len(data) == 2 and data[:1] == b"X":
        code = 1 if data[1] in (COLD, 126, 127) else data[1]  # never one the hook reads as "no verdict"
        return code, f"warm: {code}"
    what = "stopped before it gave a verdict" if len(data) < 2 else f"answered {data!r}, not a verdict"
    return refuse(f"the warm judge of this repository {what}"), "warm: refused"


def gave_up(sock: _socket.socket) -> bytes:
    """The judge's first answer, after the wait for it ran out: this side of the socket is shut
    for reading first, so that a judge that answers later fails to send its b"A" (EPIPE) and
    never reads the push; a b"A" sent before is still there to read: then the judge has the push,
    and its verdict can no longer come in (the push is refused)."""
    try:
        sock.shutdown(_socket.SHUT_RD)
        sock.setblocking(False)
        return bytes(sock.recv(1))
    except OSError:
        return b""


def refuse(why: str) -> int:
    prefix = "GL-HOOK-ERR: " if os.environ.get("GL_ID") or os.environ.get("GL_PROTOCOL") else ""
    try:  # noqa: SIM105 (contextlib costs this client 3 ms)
        os.write(2, f"{prefix}branch-policy: {why}; push refused (fail closed)\n".encode(errors="replace"))
    except OSError:
        pass
    return 2


def running(directory: str) -> bool:
    """A judge holds the directory's lock (it runs, or is starting)."""
    import fcntl

    try:
        fd = os.open(os.path.join(directory, LOCK), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


# The judge's command line: SERVE <bare repository> <idle seconds> <interpreter> <import paths>...
SERVE = "import sys; sys.path[0:0] = sys.argv[4:]; from policy.warm import main; raise SystemExit(main(sys.argv[1:]))"


def start(
    git_dir: str, paths: list[str], idle: float, wait: float | None = None, python: str | None = None
) -> int | None:
    """Start this repository's judge, detached from the push (its own session; no descriptor of
    git's, whose sideband would otherwise stay open until the judge exits): unless one runs. It
    serves the clients of the installation (`python`, this interpreter unless said; `paths`). With
    `wait`, until its socket answers (at most `wait` seconds): its pid, or None."""
    directory = judge_directory(git_dir)
    if running(directory):  # another push (or an admin) is starting it, or it runs
        return None if wait is None else _listening(directory, None, wait)
    read, write = os.pipe()
    first = os.fork()
    if first == 0:
        try:
            os.close(read)
            os.setsid()
            if os.fork():
                os._exit(0)
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            os.write(write, str(os.getpid()).encode())
            os.closerange(3, 65536)
            env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PYTHON"))}
            me = sys.executable
            os.execve(me, [me, "-S", "-I", "-c", SERVE, git_dir, repr(idle), python or me, *paths], env)
        finally:
            os._exit(127)
    os.close(write)
    os.waitpid(first, 0)
    try:
        pid = int(os.read(read, 32) or b"0")
    finally:
        os.close(read)
    return pid if wait is None else _listening(directory, pid, wait)


def _listening(directory: str, pid: int | None, wait: float) -> int | None:
    """The judge's pid once it listens (it writes its pid file then), at most `wait` seconds."""
    import time

    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        found = read_pid(directory)
        if found and (pid is None or found == pid):
            return found
        time.sleep(0.02)
    return None


def read_pid(directory: str) -> int | None:
    try:
        with open(os.path.join(directory, PID), encoding="ascii") as handle:
            return int(handle.read().strip() or 0) or None
    except (OSError, ValueError):
        return None
