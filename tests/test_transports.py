"""The hook behind real transports, each server on 127.0.0.1 and stopped by its test: OpenSSH,
smart HTTP (Apache + git-http-backend, nginx + fcgiwrap) and gitolite3's repository-specific
pre-receive hook. They run where their Debian packages are installed (`.ci/run` installs them)
and skip naming the package otherwise. The recipes are those of docs/servers.md."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Repo, World, refused, run, seed
from servers import HTTP_BACKEND, free_port, need, serving

ROOT = Path(__file__).resolve().parent.parent


def one_round(world: World, repo: Repo, short: bool = False) -> None:
    """Through whatever `origin` is: the seed's main and dev, an accepted feature branch, a
    refused branch name and (unless short) a refused direct commit on main."""
    seed(world)
    repo.branch("feature-net")
    repo.commit("feat: over the network", {"src/net.py": "net = 1\n"})
    assert repo.push("feature-net").ok
    repo.branch("scratch")
    assert refused(repo.push("scratch"), "branch-name")
    if short:
        return
    repo.checkout("main")
    repo.commit("fix: straight on main", {"src/model.py": "fixed = 1\n"})
    assert refused(repo.push("main"), "main-direct-commit")
    assert world.server_sha("refs/heads/feature-net") == repo.sha("feature-net")
    assert world.server_sha("refs/heads/scratch") is None


def open_path(path: Path) -> None:
    """Let other users through the directories above `path` (pytest's are private)."""
    for parent in (path, *path.parents):
        parent.chmod(parent.stat().st_mode | 0o011)


def chown_tree(path: Path, user: pwd.struct_passwd) -> None:
    for dirpath, dirs, files in os.walk(path):
        for name in [dirpath, *(os.path.join(dirpath, f) for f in files + dirs)]:
            os.lchown(name, user.pw_uid, user.pw_gid)


# --------------------------------------------------------------------------- OpenSSH


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[tuple[int, Path, Path]]:
    """sshd on 127.0.0.1 with a throwaway host key and client key; yields (port, client key,
    authorized_keys file)."""
    sshd_bin, keygen = need("sshd", "ssh-keygen")
    conf = tmp_path / "sshd"
    conf.mkdir()
    for name in ("host", "client"):
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(conf / name)], check=True)
    authorized = conf / "authorized_keys"
    authorized.write_text((conf / "client.pub").read_text())
    port = free_port()
    (conf / "sshd_config").write_text(
        f"ListenAddress 127.0.0.1\nPort {port}\nHostKey {conf / 'host'}\nPidFile {conf / 'pid'}\n"
        f"AuthorizedKeysFile {authorized}\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n"
        f"SetEnv PATH={os.environ['PATH']}\n"
    )
    os.makedirs("/run/sshd", exist_ok=True)  # privilege separation directory
    with serving([sshd_bin, "-D", "-e", "-f", str(conf / "sshd_config")], port, conf / "log"):
        yield port, conf / "client", authorized


def ssh_env(key: Path) -> dict[str, str]:
    options = "-o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
    command = f"ssh -i {key} -F /dev/null {options}"
    return {"GIT_SSH_COMMAND": command}


def test_over_ssh(tmp_path: Path, sshd: tuple[int, Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    port, key, _ = sshd
    for name, value in ssh_env(key).items():
        monkeypatch.setenv(name, value)
    world = World(tmp_path)
    user = pwd.getpwuid(os.geteuid()).pw_name
    world.work.git("remote", "set-url", "origin", f"ssh://{user}@127.0.0.1:{port}{world.server}")
    one_round(world, world.work)


# --------------------------------------------------------------------------- gitolite3


def test_gitolite_repository_specific_pre_receive(
    tmp_path: Path, sshd: tuple[int, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """gitolite3 under its own HOME: the branch-policy hook as a repository-specific pre-receive
    (option hook.pre-receive), so it sees the whole push, unlike a VREF (one ref at a time)."""
    (gitolite,) = need("gitolite")
    port, key, authorized = sshd
    home = tmp_path / "gitolite-home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home)}
    admin_pub = tmp_path / "admin.pub"
    admin_pub.write_text(Path(str(key) + ".pub").read_text())
    assert subprocess.run([gitolite, "setup", "-pk", str(admin_pub)], env=env, capture_output=True).returncode == 0
    rc = home / ".gitolite.rc"
    text = rc.read_text()
    text = text.replace('# LOCAL_CODE                =>  "$ENV{HOME}/local",', 'LOCAL_CODE => "$ENV{HOME}/local",')
    text = text.replace("# 'repo-specific-hooks',", "'repo-specific-hooks',")
    assert 'LOCAL_CODE => "$ENV{HOME}/local"' in text and "\n            'repo-specific-hooks'," in text
    rc.write_text(text)
    hooks = home / "local" / "hooks" / "repo-specific"
    hooks.mkdir(parents=True)
    (hooks / "branch-policy").write_text(
        f"#!/bin/sh\nBRANCH_POLICY_PYTHON={sys.executable} exec {ROOT / 'hooks' / 'pre-receive'}\n"
    )
    (hooks / "branch-policy").chmod(0o755)
    conf = home / ".gitolite" / "conf" / "gitolite.conf"
    conf.write_text(
        conf.read_text() + "\nrepo research\n    RW+ = admin\n    option hook.pre-receive = branch-policy\n"
    )
    done = subprocess.run([gitolite, "setup"], env=env, capture_output=True, text=True)  # compile, create, link
    assert done.returncode == 0, done.stderr
    # gitolite wrote its own authorized_keys under its HOME; sshd here reads ours: point it there.
    shell = (home / ".ssh" / "authorized_keys").read_text()
    assert "gitolite-shell admin" in shell
    authorized.write_text(shell.replace('command="', f'command="HOME={home} ', 1))
    for name, value in ssh_env(key).items():
        monkeypatch.setenv(name, value)
    server = home / "repositories" / "research.git"
    assert os.path.islink(server / "hooks" / "pre-receive")
    world = World(tmp_path, hook=False)
    world.server = server
    user = pwd.getpwuid(os.geteuid()).pw_name
    world.work.git("remote", "set-url", "origin", f"ssh://{user}@127.0.0.1:{port}/research")
    one_round(world, world.work, short=True)
    assert world.server_sha("refs/heads/feature-net") == world.work.sha("feature-net")


# --------------------------------------------------------------------------- smart HTTP


def shared_python(tmp_path: Path, user: pwd.struct_passwd) -> Path:
    """An interpreter that `user` can run: the system python3 with this checkout and the test
    environment's packages on its path (skip if `user` cannot read them)."""
    system = Path("/usr/bin/python3")
    if not system.exists():
        pytest.skip("no /usr/bin/python3 for the web server's user")
    wrapper = tmp_path / "shared-python"
    paths = f"{ROOT}:{sysconfig.get_paths()['purelib']}:{sysconfig.get_paths()['platlib']}"
    wrapper.write_text(f'#!/bin/sh\nPYTHONPATH={paths} exec {system} "$@"\n')
    wrapper.chmod(0o755)
    probe = subprocess.run(
        [str(wrapper), "-c", "import policy.commands.hook, click, yaml, re2"], user=user.pw_uid, group=user.pw_gid,
        extra_groups=[], capture_output=True, text=True,
    )  # fmt: skip
    if probe.returncode != 0:
        pytest.skip(
            f"user {user.pw_name} cannot import branch-policy from this checkout: {probe.stderr.strip()[-200:]}"
        )
    return wrapper


def install_for(world: World, python: Path, user: pwd.struct_passwd) -> None:
    from policy.commands.install import hook_script

    hook = world.server / "hooks" / "pre-receive"
    hook.write_text(hook_script("pre-receive", str(python), fail_closed=True, git_dir=str(world.server)))
    hook.chmod(0o755)
    chown_tree(world.server, user)


APACHE = """ServerRoot {root}
Listen 127.0.0.1:{port}
PidFile {root}/pid
ErrorLog {root}/error.log
LogLevel info
Timeout 300
LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule authz_user_module /usr/lib/apache2/modules/mod_authz_user.so
LoadModule authn_core_module /usr/lib/apache2/modules/mod_authn_core.so
LoadModule authn_file_module /usr/lib/apache2/modules/mod_authn_file.so
LoadModule auth_basic_module /usr/lib/apache2/modules/mod_auth_basic.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule env_module /usr/lib/apache2/modules/mod_env.so
LoadModule cgi_module /usr/lib/apache2/modules/mod_cgi.so
User www-data
Group www-data
SetEnv GIT_PROJECT_ROOT {projects}
SetEnv GIT_HTTP_EXPORT_ALL
ScriptAlias /git/ {backend}/
<Location /git/>
    AuthType Basic
    AuthName "git"
    AuthUserFile {root}/htpasswd
    Require valid-user
</Location>
"""


def test_over_apache_git_http_backend(tmp_path: Path) -> None:
    apache, htpasswd = need("apache2", "htpasswd")
    www = pwd.getpwnam("www-data")
    root = tmp_path / "apache"
    root.mkdir()
    subprocess.run([htpasswd, "-bc", str(root / "htpasswd"), "alice", "secret"], check=True, capture_output=True)
    port = free_port()
    (root / "httpd.conf").write_text(APACHE.format(root=root, port=port, projects=tmp_path, backend=HTTP_BACKEND))
    world = World(tmp_path, hook=False)
    run(["git", "config", "--global", "--add", "safe.directory", "*"], tmp_path)  # to read www-data's repository
    open_path(tmp_path)
    url = f"http://alice:secret@127.0.0.1:{port}/git/server.git"
    world.work.git("remote", "set-url", "origin", url)
    probe = world.clone("probe")
    probe.git("remote", "set-url", "origin", url)
    with serving([apache, "-X", "-f", str(root / "httpd.conf")], port, root / "out.log"):
        # The interpreter of a private home (a virtualenv made from ~/.pyenv): named, never hidden.
        private = tmp_path / "home" / "venv" / "bin" / "python"
        private.parent.mkdir(parents=True)
        private.symlink_to(sys.executable)
        (tmp_path / "home").chmod(0o700)
        install_for(world, private, www)
        probe.commit("feat: start", {"README.md": "# r\n"})
        result = probe.push("main")
        assert not result.ok and "cannot be run by user www-data" in result.out, result.out
        assert f"directory {tmp_path / 'home'} is not searchable" in result.out
        install_for(world, shared_python(tmp_path, www), www)
        try:
            one_round(world, world.work)
        except AssertionError as exc:  # with the server's side of the story
            raise AssertionError(f"{exc}\n--- apache error.log:\n{(root / 'error.log').read_text()[-3000:]}") from None


NGINX = """daemon off;
master_process off;
user root root;
pid {root}/pid;
error_log {root}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    fastcgi_temp_path {root}/fastcgi;
    server {{
        listen 127.0.0.1:{port};
        location ~ ^/git(/.*) {{
            client_max_body_size 0;
            auth_basic "git";
            auth_basic_user_file {root}/htpasswd;
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME {backend};
            fastcgi_param GIT_PROJECT_ROOT {projects};
            fastcgi_param GIT_HTTP_EXPORT_ALL "";
            fastcgi_param PATH_INFO $1;
            fastcgi_param REMOTE_USER $remote_user;
            fastcgi_pass unix:{root}/fcgiwrap.sock;
        }}
    }}
}}
"""


def test_over_nginx_fcgiwrap(tmp_path: Path) -> None:
    nginx, fcgiwrap, htpasswd = need("nginx", "fcgiwrap", "htpasswd")
    root = tmp_path / "nginx"
    root.mkdir()
    subprocess.run([htpasswd, "-bc", str(root / "htpasswd"), "alice", "secret"], check=True, capture_output=True)
    port = free_port()
    (root / "nginx.conf").write_text(NGINX.format(root=root, port=port, projects=tmp_path, backend=HTTP_BACKEND))
    world = World(tmp_path)
    world.work.git("remote", "set-url", "origin", f"http://alice:secret@127.0.0.1:{port}/git/server.git")
    socket_path = root / "fcgiwrap.sock"
    fcgi = subprocess.Popen([fcgiwrap, "-c", "2", "-s", f"unix:{socket_path}"], start_new_session=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        with serving([nginx, "-c", str(root / "nginx.conf"), "-p", str(root)], port, root / "out.log"):
            one_round(world, world.work)
    finally:
        fcgi.terminate()
        fcgi.wait(timeout=10)
    assert run(["git", "config", "--get", "http.receivepack"], world.server).out == ""  # REMOTE_USER sufficed
