/*
 * Ops of `nsx unshare`: id maps, setgroups, time-namespace offsets, persistent
 * namespaces (bind mounts of nsfs files) and the fork with --kill-child.
 *
 * THE OUTSIDE HELPER
 * Some work must be done from outside the namespaces this process unshares:
 * writing a multi-range id map needs CAP_SETUID in the *parent* user namespace
 * (or newuidmap, which acts on our pid from outside), and a persistence bind mount
 * must land in the *original* mount namespace. So `helper-start`, placed before
 * `unshare`, forks a child that stays behind and serves requests over a
 * SOCK_SEQPACKET socketpair: one datagram per request (NUL-separated fields), one
 * byte back (0 done, 1 failed: the helper has printed the error line itself).
 * The helper is forked twice, so it is nobody's child here: it may outlive our exec by a
 * moment, and the command must never find a child it did not make (a zombie it would not
 * reap). It exits after its last reply, or when our end of the socket closes.
 *
 * Persistence is done last: `persist` only queues, and the queue is flushed by
 * `helper-commit` just before exec, or by the fork parent once the child has exec'd
 * (pid_for_children exists only once a child is in the new pid namespace). If one
 * bind fails, the helper undoes the binds it made and unlinks the files it created.
 * Without a fork, `helper-commit` makes the binds and then arms the helper: our end of
 * the socket is close-on-exec, so a successful exec closes it and the helper exits keeping
 * the binds; a failed exec exits through helper_atexit, which rolls them back. So if the
 * command cannot be started, nothing stays bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define MAX_PERSIST NS_COUNT
#define MSG_MAX 8192

static bool have_helper;        /* helper-start ran and the helper has not finished */
static int helper_fd = -1;      /* our end of the socketpair */
static pid_t helper_owner;      /* the process that must reap the helper */
static pid_t subject_pid;       /* whose /proc/PID the helper acts on: us, as seen outside */

struct persist_req {
	const char *type;
	const char *path;
};
static struct persist_req queue[MAX_PERSIST];
static int nqueue;

/* ---- the helper (runs outside the new namespaces) ---- */

struct bound {
	char *path;
	bool created;
	bool mounted;
};
static struct bound binds[MAX_PERSIST];
static int nbinds;

static void helper_undo(void)
{
	for (int i = nbinds - 1; i >= 0; i--) {
		if (binds[i].mounted)
			umount2(binds[i].path, MNT_DETACH);
		if (binds[i].created)
			unlink(binds[i].path);
	}
	nbinds = 0;
}

/* Map text comes comma-separated in the plan (one argv word): one line per range for the kernel. */
static char *map_lines(const char *arg)
{
	char *text = strdup(arg);
	if (!text)
		die(EXIT_NSX_FAILURE, "out of memory");
	for (char *c = text; *c; c++)
		if (*c == ',')
			*c = '\n';
	return text;
}

static bool write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	size_t len = strlen(text);
	ssize_t n = write(fd, text, len);
	int err = errno;
	close(fd);
	errno = err;
	return n == (ssize_t)len;
}

/* Map text on one line, for messages: "0 1000 1, 1 100000 65535". */
static const char *one_line(const char *text)
{
	static char buf[256];
	size_t j = 0;
	for (size_t i = 0; text[i] && j + 4 < sizeof(buf); i++) {
		if (text[i] == '\n' || text[i] == ',') {
			if (text[i + 1]) {
				buf[j++] = ',';
				buf[j++] = ' ';
			}
		} else {
			buf[j++] = text[i];
		}
	}
	buf[j] = '\0';
	return buf;
}

static bool helper_map_write(const char *kind, const char *text)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s_map", (int)subject_pid, kind);
	char *lines = map_lines(text);
	bool ok = write_file(path, lines);
	int err = errno;
	free(lines);
	if (!ok)
		warnx_nsx("write %s map '%s' to %s: %s", kind, one_line(text), path, strerror(err));
	return ok;
}

/* newuidmap PID inner outer count ...: the setuid helper checks /etc/subuid for us. */
static bool helper_map_newidmap(const char *kind, const char *text)
{
	const char *prog = strcmp(kind, "uid") == 0 ? "newuidmap" : "newgidmap";
	char *copy = strdup(text);
	char *argv[3 + 3 * 340 + 1];
	char pidbuf[16];
	int n = 0;
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)subject_pid);
	argv[n++] = (char *)prog;
	argv[n++] = pidbuf;
	for (char *save = NULL, *t = strtok_r(copy, " \n,", &save); t && n < (int)(sizeof(argv) / sizeof(argv[0])) - 1;
	     t = strtok_r(NULL, " \n,", &save))
		argv[n++] = t;
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid < 0) {
		warnx_nsx("fork for %s: %s", prog, strerror(errno));
		free(copy);
		return false;
	}
	if (pid == 0) {
		execvp(prog, argv);
		warnx_nsx("%s map '%s' needs %s (Debian package uidmap): %s", kind, one_line(text), prog, strerror(errno));
		_exit(EXIT_NOT_FOUND);
	}
	free(copy);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return false;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == EXIT_NOT_FOUND))
		warnx_nsx("%s refused the %s map '%s' (see its message above; ranges must be yours in /etc/sub%s)", prog, kind,
			  one_line(text), kind);
	return false;
}

static bool helper_bind(const char *src, const char *dst)
{
	if (nbinds >= MAX_PERSIST) {
		warnx_nsx("invalid plan: too many persist");
		return false;
	}
	struct bound *b = &binds[nbinds];
	*b = (struct bound){.path = strdup(dst)};
	nbinds++;
	int fd = open(dst, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0444);
	if (fd >= 0) {
		close(fd);
		b->created = true;
	} else if (errno != EEXIST) {
		warnx_nsx("create %s for the namespace bind mount: %s", dst, strerror(errno));
		return false;
	}
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0) {
		int err = errno;
		size_t l = strlen(src);
		if (err == EINVAL && l > 4 && strcmp(src + l - 4, "/mnt") == 0)
			/* The kernel's loop check: the target mount propagates into the new namespace, or
			 * the new namespace's id looks older than ours (ids come from per-CPU batches). */
			warnx_nsx("bind-mount %s on %s: %s (a mount namespace can be kept only on a mount that does not propagate into it: "
				  "use --propagation private or slave, or a private mount)", src, dst, strerror(err));
		else
			warnx_nsx("bind-mount %s on %s: %s", src, dst, strerror(err));
		return false;
	}
	b->mounted = true;
	return true;
}

static void helper_loop(int fd) __attribute__((noreturn));
static void helper_loop(int fd)
{
	char msg[MSG_MAX + 1];
	bool armed = false;
	for (;;) {
		ssize_t n = recv(fd, msg, MSG_MAX, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* The requester is gone: armed, it exec'd the command (keep the binds); otherwise it
			 * died before committing (leave nothing behind). */
			if (!armed)
				helper_undo();
			_exit(0);
		}
		msg[n] = '\0';
		char *f[4] = {msg, NULL, NULL, NULL};
		for (int i = 1, off = 0; i < 4; i++) {
			off += (int)strlen(msg + off) + 1;
			f[i] = off < n ? msg + off : NULL;
		}
		char ok = 0;
		if (strcmp(f[0], "commit") == 0) {
			send(fd, &ok, 1, MSG_NOSIGNAL);
			_exit(0);
		} else if (strcmp(f[0], "rollback") == 0) {
			helper_undo();
			send(fd, &ok, 1, MSG_NOSIGNAL);
			_exit(0);
		} else if (strcmp(f[0], "arm") == 0) {
			armed = true;
		} else if (strcmp(f[0], "map") == 0 && f[3]) {
			bool done = strcmp(f[2], "newidmap") == 0 ? helper_map_newidmap(f[1], f[3]) : helper_map_write(f[1], f[3]);
			ok = done ? 0 : 1;
		} else if (strcmp(f[0], "bind") == 0 && f[2]) {
			ok = helper_bind(f[1], f[2]) ? 0 : 1;
		} else {
			warnx_nsx("helper: bad request '%s'", f[0]);
			ok = 1;
		}
		send(fd, &ok, 1, MSG_NOSIGNAL);
	}
}

/* ---- the requesting side ---- */

/* After the helper's last reply: it exits at once; its end of the socket closing says it has. */
static void helper_reap(void)
{
	if (helper_fd >= 0) {
		char c;
		while (recv(helper_fd, &c, 1, 0) < 0 && errno == EINTR)
			;
		close(helper_fd);
	}
	helper_fd = -1;
	have_helper = false;
}

/* Send one request; false when the helper reports failure (it printed why). */
static bool helper_request(const char *a, const char *b, const char *c, const char *d)
{
	char msg[MSG_MAX];
	size_t len = 0;
	const char *fields[4] = {a, b, c, d};
	for (int i = 0; i < 4 && fields[i]; i++) {
		size_t l = strlen(fields[i]) + 1;
		if (len + l > sizeof(msg))
			die(EXIT_NSX_FAILURE, "invalid plan: request to the helper too long");
		memcpy(msg + len, fields[i], l);
		len += l;
	}
	if (send(helper_fd, msg, len, MSG_NOSIGNAL) < 0)
		die_errno(EXIT_NSX_FAILURE, "talk to the outside helper");
	char reply;
	ssize_t n;
	while ((n = recv(helper_fd, &reply, 1, 0)) < 0 && errno == EINTR)
		;
	if (n != 1)
		die(EXIT_NSX_FAILURE, "the outside helper exited unexpectedly");
	return reply == 0;
}

/* On any exit before commit (a later op failed): undo and reap, so nothing is left. */
static void helper_atexit(void)
{
	if (!have_helper || helper_fd < 0 || getpid() != helper_owner)
		return;
	const char rb[] = "rollback";
	if (send(helper_fd, rb, sizeof(rb), MSG_NOSIGNAL) > 0) {
		char reply;
		while (recv(helper_fd, &reply, 1, 0) < 0 && errno == EINTR)
			;
	}
	helper_reap();
}

static void helper_finish(bool commit)
{
	if (!have_helper)
		return;
	helper_request(commit ? "commit" : "rollback", NULL, NULL, NULL);
	helper_reap();
}

static void op_helper_start(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	if (have_helper)
		die(EXIT_NSX_FAILURE, "invalid plan: helper-start twice");
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die_errno(EXIT_NSX_FAILURE, "socketpair for the outside helper");
	subject_pid = getpid();
	fflush(NULL);
	pid_t mid = fork();
	if (mid < 0)
		die_errno(EXIT_NSX_FAILURE, "fork the outside helper");
	if (mid == 0) {
		/* No PR_SET_PDEATHSIG: if we die, the helper sees EOF, undoes its bind mounts and exits. */
		close(sv[0]);
		pid_t h = fork();
		if (h < 0) {
			warnx_nsx("fork the outside helper: %s", strerror(errno));
			_exit(EXIT_NSX_FAILURE);
		}
		if (h > 0)
			_exit(0);
		helper_loop(sv[1]);
	}
	close(sv[1]);
	int status;
	while (waitpid(mid, &status, 0) < 0)
		if (errno != EINTR)
			die_errno(EXIT_NSX_FAILURE, "wait for the outside helper's fork");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		exit(EXIT_NSX_FAILURE);
	helper_fd = sv[0];
	have_helper = true;
	helper_owner = getpid();
	static bool registered;
	if (!registered)
		atexit(helper_atexit);
	registered = true;
}

static void need_helper(const char *op)
{
	if (!have_helper || helper_fd < 0)
		die(EXIT_NSX_FAILURE, "invalid plan: %s without helper-start", op);
}

static void check_kind(const char *kind)
{
	if (strcmp(kind, "uid") != 0 && strcmp(kind, "gid") != 0)
		die(EXIT_NSX_FAILURE, "invalid plan: id map kind '%s' (uid or gid)", kind);
}

/* helper-map uid|gid write|newidmap TEXT: the helper writes our map from outside. */
static void op_helper_map(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	check_kind(args[0]);
	if (strcmp(args[1], "write") != 0 && strcmp(args[1], "newidmap") != 0)
		die(EXIT_NSX_FAILURE, "invalid plan: id map mode '%s' (write or newidmap)", args[1]);
	need_helper("helper-map");
	if (!helper_request("map", args[0], args[1], args[2]))
		exit(EXIT_NSX_FAILURE);
}

/* map-write uid|gid TEXT: our own map, a single id (what an unprivileged writer may do). */
static void op_map_write(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	check_kind(args[0]);
	char path[32];
	snprintf(path, sizeof(path), "/proc/self/%s_map", args[0]);
	char *lines = map_lines(args[1]);
	if (!write_file(path, lines))
		die_errno(EXIT_NSX_FAILURE, "write %s map '%s' to %s", args[0], one_line(args[1]), path);
	free(lines);
}

static void op_setgroups_write(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	if (strcmp(args[0], "allow") != 0 && strcmp(args[0], "deny") != 0)
		die(EXIT_NSX_FAILURE, "invalid plan: setgroups '%s' (allow or deny)", args[0]);
	if (!write_file("/proc/self/setgroups", args[0]))
		die_errno(EXIT_NSX_FAILURE, "write '%s' to /proc/self/setgroups", args[0]);
}

/* Must happen before any process enters the new time namespace (the kernel then freezes them). */
static void op_timens_offset(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	int clock;
	if (strcmp(args[0], "monotonic") == 0)
		clock = CLOCK_MONOTONIC;
	else if (strcmp(args[0], "boottime") == 0)
		clock = CLOCK_BOOTTIME;
	else
		die(EXIT_NSX_FAILURE, "invalid plan: unknown clock '%s'", args[0]);
	char *end;
	errno = 0;
	long long secs = strtoll(args[1], &end, 10);
	if (errno || end == args[1] || *end)
		die(EXIT_NSX_FAILURE, "invalid plan: bad offset '%s'", args[1]);
	char buf[64];
	snprintf(buf, sizeof(buf), "%d %lld 0", clock, secs);
	if (!write_file("/proc/self/timens_offsets", buf))
		die_errno(EXIT_NSX_FAILURE, "set the %s offset of the new time namespace to %llds (/proc/self/timens_offsets)", args[0], secs);
}

static void op_persist(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	ns_index(args[0]);
	need_helper("persist");
	if (nqueue >= MAX_PERSIST)
		die(EXIT_NSX_FAILURE, "invalid plan: too many persist");
	queue[nqueue++] = (struct persist_req){args[0], args[1]};
}

/* Bind every queued namespace file; false when one failed (the helper undid the others). */
static bool flush_persist(void)
{
	for (int i = 0; i < nqueue; i++) {
		const char *t = queue[i].type;
		/* Our pid and time namespaces are our children's: the *_for_children links. */
		const char *link = strcmp(t, "pid") == 0 ? "pid_for_children" : strcmp(t, "time") == 0 ? "time_for_children" : t;
		char src[64];
		snprintf(src, sizeof(src), "/proc/%d/ns/%s", (int)subject_pid, link);
		if (!helper_request("bind", src, queue[i].path, NULL))
			return false;
	}
	nqueue = 0;
	return true;
}

/*
 * helper-commit: last op before exec when nsx does not fork. The binds are made now (a
 * failure is reported before the command starts), then the helper is armed and our end
 * of the socket left open: exec closes it (close-on-exec) and the helper exits keeping
 * the binds; a failed exec exits through helper_atexit, which undoes them.
 */
static void op_helper_commit(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	if (!have_helper)
		return;
	if (!flush_persist() || !helper_request("arm", NULL, NULL, NULL))
		exit(EXIT_NSX_FAILURE); /* helper_atexit rolls back and reaps */
}

static int child_status_fd = -1;
static bool forward_signals;
static volatile pid_t forward_to;

static void forward_signal(int sig)
{
	if (forward_to > 0)
		kill(forward_to, sig);
}

/* --forward-signals: the fork parent passes SIGINT and SIGTERM on instead of blocking them. */
static void op_forward_signals(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	forward_signals = true;
}

/* env-keep NAMES: clear the environment but for the comma-separated NAMES (empty: clear all). */
static void op_env_keep(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	char *names = strdup(args[0]);
	char *kept[256];
	int n = 0;
	for (char *save = NULL, *t = strtok_r(names, ",", &save); t && n < 256; t = strtok_r(NULL, ",", &save)) {
		const char *v = getenv(t);
		if (!v)
			continue;
		size_t len = strlen(t) + strlen(v) + 2;
		kept[n] = malloc(len);
		if (!kept[n])
			die(EXIT_NSX_FAILURE, "out of memory");
		snprintf(kept[n], len, "%s=%s", t, v);
		n++;
	}
	clearenv();
	/* The strings stay allocated: putenv keeps pointers to them until exec. */
	for (int i = 0; i < n; i++)
		if (putenv(kept[i]) != 0)
			die_errno(EXIT_NSX_FAILURE, "putenv");
	free(names);
}

/* In the forked child: any exit before exec tells the parent not to persist anything. */
static void child_atexit(void)
{
	if (child_status_fd >= 0) {
		char f = 'F';
		if (write(child_status_fd, &f, 1) < 0) {
			/* the parent is gone; nothing to tell */
		}
	}
}

/*
 * fork-wait SIG: fork; the child goes on with the plan (with PR_SET_PDEATHSIG SIG
 * when SIG > 0: --kill-child), the parent persists what was queued once the child
 * has exec'd, then waits and passes on its exit status or signal. SIGINT and SIGTERM
 * are blocked in the parent, as util-linux unshare does, so it outlives the child,
 * or passed on to the child after forward-signals.
 */
static void op_fork_wait(struct exec_state *st, char **args, int nargs)
{
	(void)nargs;
	int sig = (int)parse_long(args[0], "signal", 0, 64);
	int parent_pidfd = -1;
	if (sig > 0) {
		parent_pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
		if (parent_pidfd < 0)
			die_errno(EXIT_NSX_FAILURE, "pidfd_open(self) for --kill-child");
	}
	int status_pipe[2] = {-1, -1};
	bool watch = have_helper;
	if (watch && pipe2(status_pipe, O_CLOEXEC) < 0)
		die_errno(EXIT_NSX_FAILURE, "pipe");
	/*
	 * SIGINT and SIGTERM stay blocked from here: for good without forward-signals; with it,
	 * until the child's pid is recorded, so one arriving around the fork is held pending and
	 * then passed on instead of reaching a handler that has no child to pass it to yet.
	 */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	signal(SIGCHLD, SIG_DFL);
	struct sigaction old_int, old_term;
	if (forward_signals) {
		struct sigaction sa = {.sa_handler = forward_signal};
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
	}
	pid_t child = fork_plan(st);
	if (child == 0) {
		if (forward_signals) {
			sigaction(SIGINT, &old_int, NULL);
			sigaction(SIGTERM, &old_term, NULL);
		}
		sigprocmask(SIG_SETMASK, &old, NULL);
		/* The helper belongs to the parent. */
		if (helper_fd >= 0)
			close(helper_fd);
		helper_fd = -1;
		have_helper = false;
		if (watch) {
			close(status_pipe[0]);
			child_status_fd = status_pipe[1];
			atexit(child_atexit);
		}
		if (sig > 0) {
			if (prctl(PR_SET_PDEATHSIG, sig) < 0)
				die_errno(EXIT_NSX_FAILURE, "prctl(PR_SET_PDEATHSIG) for --kill-child");
			/* The parent may have died before prctl: then nobody would kill us later. */
			struct pollfd p = {.fd = parent_pidfd, .events = POLLIN};
			if (poll(&p, 1, 0) > 0)
				exit(EXIT_NSX_FAILURE);
			close(parent_pidfd);
		}
		return;
	}
	test_hook_pause("NSX_TEST_PAUSE_AFTER_FORK");
	forward_to = child;
	if (forward_signals)
		sigprocmask(SIG_SETMASK, &old, NULL); /* a signal held since the fork reaches the child now */
	if (parent_pidfd >= 0)
		close(parent_pidfd);
	if (watch) {
		close(status_pipe[1]);
		char c;
		ssize_t n;
		while ((n = read(status_pipe[0], &c, 1)) < 0 && errno == EINTR)
			;
		close(status_pipe[0]);
		if (n == 1) {
			helper_finish(false); /* the child failed before exec: keep nothing */
		} else if (!flush_persist()) {
			kill(child, SIGKILL);
			while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
				;
			exit(EXIT_NSX_FAILURE);
		} else {
			helper_finish(true);
		}
	}
	wait_and_propagate(child);
}

/* Keep a new procfs from propagating to the host's /proc when the propagation is not private. */
static void op_proc_private(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	/* EINVAL: not a mount point (a custom directory), nothing to isolate. */
	if (mount("none", args[0], NULL, MS_REC | MS_PRIVATE, NULL) < 0 && errno != EINVAL)
		die_errno(EXIT_NSX_FAILURE, "make %s private before mounting proc", args[0]);
}

const struct op ops_unshare[] = {
	{"helper-start", 0, op_helper_start, "fork the outside helper (before unshare): maps and bind mounts from outside"},
	{"helper-map", 3, op_helper_map, "uid|gid write|newidmap TEXT: the helper writes our id map, or runs new[ug]idmap"},
	{"map-write", 2, op_map_write, "uid|gid TEXT: write our own /proc/self/[ug]id_map"},
	{"setgroups-write", 1, op_setgroups_write, "allow|deny: write /proc/self/setgroups"},
	{"timens-offset", 2, op_timens_offset, "monotonic|boottime SECS: offset of the new time namespace"},
	{"persist", 2, op_persist, "TYPE PATH: queue a bind mount of our TYPE namespace on PATH (done at commit or after fork)"},
	{"helper-commit", 0, op_helper_commit, "bind the queued namespace files, then end the helper"},
	{"fork-wait", 1, op_fork_wait, "SIG: fork; child gets PR_SET_PDEATHSIG SIG (0: none); parent persists, waits, passes status on"},
	{"forward-signals", 0, op_forward_signals, "make a later fork-wait pass SIGINT and SIGTERM on to the child"},
	{"env-keep", 1, op_env_keep, "NAMES: clear the environment but for the comma-separated NAMES"},
	{"proc-private", 1, op_proc_private, "PATH: make PATH's mounts private (EINVAL tolerated) before mount-proc"},
	{NULL, 0, NULL, NULL},
};
