/* The warm judge's native client: what the server hook runs first, on every push.

   The same happy path as policy/warmclient.py's _main, without starting Python (about 1 ms
   instead of 12): find this repository's warm judge (policy/warm.py) by the same name, connect
   to its Unix socket, check that the judge is of this user, hand it this process's stdin, stdout
   and stderr (SCM_RIGHTS) with argv, the working directory, the environment and the umask, and
   exit with its verdict.

   Two ways to run it (`policy install --server` compiles it into the repository's hooks):
     as the hook itself, hooks/pre-receive (no argument is "--"): the installation's key comes
       from the hook script next to it (SCRIPT, its KEY_LINE), and every push the judge does not
       take goes to that script, by exec, with stdin unread: no warm judge, BRANCH_POLICY_WARM=off,
       a legacy hook (pre-receive.legacy, which needs git's lines too), a key it cannot read;
     as a client: branch-policy-pre-receive's own call when a legacy hook runs first,
       pre-receive PYTHON IMPORT-PATH... -- pre-receive ARGS...
   PYTHON and the import paths are the hook's own: the judge serves only a client of its own
   installation (else it answers "stale" and exits).

   Exit status: the verdict; or, as a client, 75 (COLD) whenever the judge did not take the push
   (no judge, refused, another user's, stale, declined, no answer in 20 s, anything unexpected):
   nothing was read from stdin then, and the script runs the Python client, which may start a
   judge, then the ordinary path. A judge that took the push and gives no verdict refuses it with
   one line (2), as does a hook whose script cannot be run (1). Starting a judge is the Python
   client's job. Plain C99 and POSIX (Linux: SO_PEERCRED). */

#define _GNU_SOURCE /* struct ucred, SO_PEERCRED, MSG_NOSIGNAL */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define COLD 75
#define ACK_MS 20000 /* policy/warmclient.py ACK_SECONDS */
static const char PROTOCOL[] = "branch-policy-warm 2";
static const char SOCKET_NAME[] = "judge2.sock";
static const char SCRIPT[] = "branch-policy-pre-receive"; /* policy/commands/install.py SCRIPT */
static const char KEY_LINE[] = "\n# warm judge key (hex): "; /* policy/commands/install.py KEY_LINE */
/* policy/commands/install.py MARKER: how install and doctor know this binary as branch-policy's */
const char branch_policy_marker[] = "# installed by branch-policy (policy install)";

extern char **environ;

static const char *how = "cold (native): ?";
static char *cwd;
static void (*sigpipe_was)(int) = SIG_DFL; /* as git started the hook: the script gets it back */
static int sigpipe_changed = 0;

/* zlib's crc32 and adler32, as Python's zlib computes them (the judge's directory is named so) */
static uint32_t crc32_of(const unsigned char *p, size_t n) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc ^ 0xFFFFFFFFu;
}

static uint32_t adler32_of(const unsigned char *p, size_t n) {
    uint32_t a = 1, b = 0;
    for (size_t i = 0; i < n; i++) {
        a = (a + p[i]) % 65521u;
        b = (b + a) % 65521u;
    }
    return (b << 16) | a;
}

struct buffer {
    char *data;
    size_t size, capacity;
};

static int append(struct buffer *buf, const void *data, size_t n) {
    if (buf->size + n + 1 > buf->capacity) {
        size_t capacity = buf->capacity ? buf->capacity : 4096;
        while (buf->size + n + 1 > capacity) capacity *= 2;
        char *grown = realloc(buf->data, capacity);
        if (!grown) return -1;
        buf->data = grown;
        buf->capacity = capacity;
    }
    memcpy(buf->data + buf->size, data, n);
    buf->size += n;
    buf->data[buf->size] = '\0';
    return 0;
}

static int field(struct buffer *buf, const char *text, int first) {
    if (!first && append(buf, "", 1)) return -1; /* the NUL between fields */
    return append(buf, text, strlen(text));
}

static int number(struct buffer *buf, long value) {
    char text[32];
    snprintf(text, sizeof text, "%ld", value);
    return field(buf, text, 0);
}

static char *current_directory(void) {
    for (size_t size = 4096; size <= (1u << 20); size *= 2) {
        char *buf = malloc(size);
        if (!buf) return NULL;
        if (getcwd(buf, size)) return buf;
        free(buf);
        if (errno != ERANGE) return NULL;
    }
    return NULL;
}

static void log_line(void) {
    const char *log = getenv("BRANCH_POLICY_WARM_LOG");
    if (!log || !*log) return;
    int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return;
    struct buffer line = {0};
    const char *where = cwd ? cwd : "?";
    if (!append(&line, how, strlen(how)) && !append(&line, " ", 1) && !append(&line, where, strlen(where)) &&
        !append(&line, "\n", 1)) {
        ssize_t written = write(fd, line.data, line.size);
        (void)written;
    }
    free(line.data);
    close(fd);
}

static int cold(const char *why) {
    how = why;
    log_line();
    return COLD;
}

/* One line on stderr, as the hook says it (GitLab shows only lines that start GL-HOOK-ERR). */
static void say(const char *what, const char *tail) {
    const char *gl_id = getenv("GL_ID"), *gl_protocol = getenv("GL_PROTOCOL");
    const char *prefix = (gl_id && *gl_id) || (gl_protocol && *gl_protocol) ? "GL-HOOK-ERR: " : "";
    struct buffer line = {0};
    if (!append(&line, prefix, strlen(prefix)) && !append(&line, "branch-policy: ", 15) &&
        !append(&line, what, strlen(what)) && !append(&line, tail, strlen(tail))) {
        ssize_t written = write(2, line.data, line.size);
        (void)written;
    }
    free(line.data);
}

/* After the judge took the push: no verdict refuses it, with one line (the Python client's). */
static int refuse(const char *what) {
    say(what, "; push refused (fail closed)\n");
    how = "warm: refused (native)";
    log_line();
    return 2;
}

/* As the hook itself, a push it can neither hand on nor judge: refused, with one line (1). */
static int refuse_plain(const char *what) {
    say(what, "; push refused (fail closed)\n");
    how = "refused (native hook)";
    log_line();
    return 1;
}

static int connect_to(int sock, const char *directory) {
    struct sockaddr_un address;
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    size_t length = strlen(directory) + 1 + strlen(SOCKET_NAME);
    if (length < 100) {
        snprintf(address.sun_path, sizeof address.sun_path, "%s/%s", directory, SOCKET_NAME);
        return connect(sock, (struct sockaddr *)&address, sizeof address);
    }
    /* longer than a socket address allows: by a relative name, from its directory */
    int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (here < 0) return -1;
    int rc = -1;
    if (chdir(directory) == 0) {
        snprintf(address.sun_path, sizeof address.sun_path, "%s", SOCKET_NAME);
        rc = connect(sock, (struct sockaddr *)&address, sizeof address);
    }
    if (fchdir(here) != 0) rc = -1;
    close(here);
    return rc;
}

static long remaining_ms(const struct timespec *deadline) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (long)(deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
    return ms < 0 ? 0 : ms;
}

static int send_request(int sock, const struct buffer *body) {
    unsigned char header[8];
    uint64_t length = body->size;
    for (int i = 7; i >= 0; i--, length >>= 8) header[i] = (unsigned char)(length & 0xFF);
    struct iovec iov[2] = {{header, sizeof header}, {body->data, body->size}};
    int fds[3] = {0, 1, 2};
    union {
        char buf[CMSG_SPACE(sizeof fds)];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(cmsg), fds, sizeof fds);
    ssize_t sent;
    do sent = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    if (sent < 0) return -1;
    size_t total = sizeof header + body->size, done = (size_t)sent;
    while (done < total) { /* the rest, without the descriptors */
        const char *from = done < sizeof header ? (const char *)header + done : body->data + (done - sizeof header);
        size_t left = done < sizeof header ? sizeof header - done : total - done;
        ssize_t n = send(sock, from, left, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        done += (size_t)n;
    }
    return 0;
}

/* Hand the push to the judge: its verdict, or COLD. `key` is the installation's (PYTHON and its
   import paths, one per line), `args` what the judge runs (the hook's name, then its arguments). */
static int judge(const char *key, int nargs, char **args) {
    void (*was)(int) = signal(SIGPIPE, SIG_IGN);
    if (was != SIG_ERR && !sigpipe_changed) {
        sigpipe_was = was;
        sigpipe_changed = 1;
    }
    if (!cwd) cwd = current_directory();
    if (!cwd) return cold("cold (native): no working directory");

    /* the judge's directory: policy.warmclient.judge_directory */
    const char *git_dir = getenv("GIT_DIR");
    char *real = realpath(git_dir && *git_dir ? git_dir : ".", NULL);
    if (!real) return cold("cold (native): the repository's path cannot be resolved");
    size_t n = strlen(real);
    char directory[128];
    snprintf(directory, sizeof directory, "/tmp/branch-policy-warm-%lu/%08x%08x", (unsigned long)getuid(),
             (unsigned)crc32_of((unsigned char *)real, n), (unsigned)adler32_of((unsigned char *)real, n));
    free(real);

    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return cold("cold (native): no socket");
    struct timeval timeout = {ACK_MS / 1000, 0}; /* connect (a full backlog) and send wait no longer */
    setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (connect_to(sock, directory) != 0) return cold("cold (native): no judge");
    struct ucred credentials;
    socklen_t size = sizeof credentials;
    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0 || size != sizeof credentials ||
        credentials.uid != getuid())
        return cold("cold (native): the socket is another user's");

    /* the request: tag, key, cwd, umask, argc, argv..., envc, env... (NUL between fields) */
    struct buffer body = {0};
    mode_t mask = umask(077);
    umask(mask);
    long envc = 0;
    for (char **e = environ; *e; e++) envc++;
    int failed = field(&body, PROTOCOL, 1) || field(&body, key, 0) || field(&body, cwd, 0) ||
                 number(&body, (long)mask) || number(&body, (long)nargs);
    for (int i = 0; i < nargs && !failed; i++) failed = field(&body, args[i], 0);
    failed = failed || number(&body, envc);
    for (char **e = environ; *e && !failed; e++) failed = field(&body, *e, 0);
    if (failed) return cold("cold (native): out of memory");

    if (send_request(sock, &body) != 0) return cold("cold (native): the request could not be sent");
    free(body.data);

    /* its first answer: A (it took the push), S (stale: it exits), C (declined), nothing */
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += ACK_MS / 1000;
    char answer = 0;
    for (;;) {
        struct pollfd ready = {sock, POLLIN, 0};
        int got = poll(&ready, 1, (int)remaining_ms(&deadline));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) { /* no answer in time: shut this side for reading first, then look once more. A
                           judge that answers later fails to send (EPIPE) and never reads stdin; an
                           A sent before is still here: the judge has the push, and its verdict
                           can no longer come in (the push is refused). */
            shutdown(sock, SHUT_RD);
            if (recv(sock, &answer, 1, MSG_DONTWAIT) == 1 && answer == 'A') {
                char late[128];
                snprintf(late, sizeof late, "the warm judge of this repository took the push only after the "
                         "hook stopped waiting for it (%d s)", ACK_MS / 1000);
                return refuse(late);
            }
            return cold("cold (native): no answer");
        }
        ssize_t r = recv(sock, &answer, 1, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r != 1) return cold("cold (native): answer b''");
        break;
    }
    if (answer == 'S') return cold("cold (native): stale judge");
    if (answer == 'C') return cold("cold (native): declined");
    if (answer != 'A') return cold("cold (native): an answer that is not one");

    /* the judge has the push: from here on only its verdict counts, and no verdict refuses */
    unsigned char verdict[2];
    size_t got = 0;
    while (got < 2) {
        ssize_t r = recv(sock, verdict + got, 2 - got, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    if (got < 2) return refuse("the warm judge of this repository stopped before it gave a verdict");
    if (verdict[0] != 'X') return refuse("the warm judge of this repository answered something else than a verdict");
    int code = verdict[1];
    if (code == COLD || code == 126 || code == 127) code = 1; /* never one the hook reads as "no verdict" */
    char text[48];
    snprintf(text, sizeof text, "warm: %d (native)", code);
    how = text;
    log_line();
    return code;
}

/* directory/name, in memory of its own; NULL when there is none to be had */
static char *beside(const char *directory, const char *name) {
    struct buffer path = {0};
    if (append(&path, directory, strlen(directory)) || append(&path, "/", 1) || append(&path, name, strlen(name))) {
        free(path.data);
        return NULL;
    }
    return path.data;
}

/* argv with `name` in place of argv[0], NULL-terminated (execv's and the judge's argument list) */
static char **renamed(const char *name, int argc, char **argv) {
    char **args = calloc((size_t)argc + 1, sizeof *args);
    if (!args) return NULL;
    args[0] = (char *)name;
    for (int i = 1; i < argc; i++) args[i] = argv[i];
    return args;
}

static int warm_off(void) {
    const char *warm = getenv("BRANCH_POLICY_WARM");
    return warm && strcmp(warm, "off") == 0;
}

/* Hand the push to the hook script next to this binary (exec: stdin is still unread), as it
   would have been run itself; or refuse it, with one line, when that script cannot be run. */
static int run_script(const char *directory, int argc, char **argv) {
    char *script = beside(directory, SCRIPT);
    char **args = script ? renamed(script, argc, argv) : NULL;
    if (!args) return refuse_plain("out of memory");
    if (sigpipe_changed) signal(SIGPIPE, sigpipe_was); /* as git left it: a disposition outlives exec */
    execv(script, args);
    int error = errno;
    struct buffer what = {0};
    char *real = realpath(".", NULL); /* where git runs the hook: the repository */
    const char *here = real ? real : "<this repository>";
    const char *parts[] = {script[0] == '/' ? "" : here, script[0] == '/' ? "" : "/", script,
                           " cannot be run (", strerror(error), "); fix: re-run policy install --server ", here};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
        if (append(&what, parts[i], strlen(parts[i]))) return refuse_plain("out of memory");
    return refuse_plain(what.data);
}

/* The installation's key, from the line KEY_LINE of the script (hex); NULL when it has none. */
static char *script_key(const char *directory) {
    struct buffer text = {0};
    char *path = beside(directory, SCRIPT);
    if (!path) return NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    if (fd < 0) return NULL;
    char chunk[8192];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || text.size > (1u << 20) || append(&text, chunk, (size_t)n)) break;
    }
    close(fd);
    char *line = text.data ? strstr(text.data, KEY_LINE) : NULL;
    char *key = NULL;
    if (line) {
        const char *hex = line + strlen(KEY_LINE);
        size_t digits = strspn(hex, "0123456789abcdef");
        if (digits && digits % 2 == 0 && hex[digits] == '\n' && (key = malloc(digits / 2 + 1))) {
            for (size_t i = 0; i < digits / 2; i++) {
                unsigned value;
                sscanf(hex + 2 * i, "%2x", &value);
                key[i] = (char)value;
            }
            key[digits / 2] = '\0';
            if (strlen(key) != digits / 2) { /* a NUL in it: no key */
                free(key);
                key = NULL;
            }
        }
    }
    free(text.data);
    return key;
}

/* Run as hooks/pre-receive itself: the warm judge's verdict, or the script's. */
static int as_hook(int argc, char **argv) {
    cwd = current_directory();
    char *directory = strdup(argv[0] ? argv[0] : "");
    if (!directory) return refuse_plain("out of memory");
    char *slash = strrchr(directory, '/');
    if (!slash) {
        free(directory);
        directory = strdup(".");
        if (!directory) return refuse_plain("out of memory");
    } else if (slash == directory) {
        slash[1] = '\0';
    } else {
        *slash = '\0';
    }
    if (warm_off()) return run_script(directory, argc, argv);
    char *legacy = beside(directory, "pre-receive.legacy");
    if (!legacy) return refuse_plain("out of memory");
    int has_legacy = access(legacy, X_OK) == 0;
    free(legacy);
    if (has_legacy) return run_script(directory, argc, argv);
    char *key = script_key(directory);
    if (!key) {
        cold("cold (native): no key in the hook script");
        return run_script(directory, argc, argv);
    }
    char **args = renamed("pre-receive", argc, argv);
    if (!args) return refuse_plain("out of memory");
    int code = judge(key, argc, args);
    free(args);
    free(key);
    if (code == COLD) return run_script(directory, argc, argv);
    return code;
}

int main(int argc, char **argv) {
    int dashes = 1;
    while (dashes < argc && strcmp(argv[dashes], "--") != 0) dashes++;
    if (dashes >= argc) return as_hook(argc, argv);
    if (warm_off()) return COLD;
    if (dashes < 2) return cold("cold (native): usage: PYTHON IMPORT-PATH... -- ARGS...");
    struct buffer key = {0};
    for (int i = 1; i < dashes; i++)
        if ((i > 1 && append(&key, "\n", 1)) || append(&key, argv[i], strlen(argv[i])))
            return cold("cold (native): out of memory");
    return judge(key.data, argc - dashes - 1, argv + dashes + 1);
}
