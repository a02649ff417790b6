/*
 * nsx-exec: executes a plan of namespace operations, in order, then execs a command.
 *
 * TypeScript (src/plan/) decides everything; this program only makes the syscalls,
 * in the order given, and reports the first failure as one line naming the
 * operation, its target and the error. It runs as a fresh single-threaded process
 * (Node execve()s into it), which is what setns(mnt|user) and unshare(user) need.
 *
 * PLAN ENCODING (argv)
 *   argv[0]            prefix for error messages ("nsx enter"); its basename if a path
 *   argv[1..]          ops, each an op name followed by exactly its arity of arguments;
 *                      an op of arity -1 (exec) takes all remaining arguments.
 *   Example: nsx-exec pin 1234 98765 setns-try mnt setns user setns mnt fork exec-shell
 *   `nsx-exec --ops` lists the op table (name, arity, summary).
 *
 * OP TABLE (name arity: what it does)                       [file]
 *   exec -1 ARGV...       execvp the command: 126 cannot execute, 127 not found   [exec.c]
 *   exec-shell 0          exec $SHELL (or /bin/sh) as a login shell, like nsenter [exec.c]
 *   fork 0                fork; the parent waits and exits with the child's status,
 *                         or dies of the child's signal; stops are passed up     [exec.c]
 *   pin 2 PID START       pidfd_open(PID), then check /proc/PID/stat starttime == START
 *   pin-thread 2 TID START  the same for a thread (PIDFD_THREAD): setns enters its namespaces
 *   pin-check 0           fail if the pinned process exited since pin
 *   nsfd 2 TYPE PATH      open a namespace file; it must be a TYPE namespace
 *   nsfd-pinned 1 TYPE    open the pinned process's TYPE namespace file (/proc/PID/ns/TYPE)
 *   net-socket 1 FD       take the network namespace of the pinned target's socket FD
 *   user-parent 0         replace the user namespace to enter by its parent
 *   setns 1 TYPE          enter TYPE from its nsfd or the pinned pidfd (skipped if
 *                         setns-try entered it already); failure is fatal
 *   setns-try 1 TYPE      the same, but a failure is ignored (nsenter's first pass)
 *   unshare 1 TYPES       unshare(2) the comma-separated types                   [ops-ns.c]
 *   release-target 0      close the pidfd and namespace fds
 *   open-root 1 PATH      open PATH now (before entering the mount namespace) for chroot
 *   open-wd 1 PATH        open PATH now, for chdir-fd
 *   chroot 0              chroot to the open-root directory, then chdir /
 *   chdir-fd 0            chdir to the open-wd directory
 *   chdir 1 PATH          chdir to PATH (resolved in the current root)
 *   propagation 2 MODE PATH  make mounts under PATH MODE (private|slave|shared), recursively
 *   mount-proc 1 PATH     mount a fresh procfs on PATH (of the caller's pid namespace)  [ops-fs.c]
 *   setgroups-try 0       setgroups(0, NULL), a failure remembered, not fatal
 *   setgroups 0           setgroups(0, NULL); fatal only when setgroups-try failed too
 *   setgid 1 GID, setuid 1 UID
 *   keep-caps 0           raise the permitted capabilities to inheritable and ambient
 *   cgroup-open 1 PATH    open PATH (a cgroup.procs file) now, for cgroup-join
 *   cgroup-join 0         write our pid to every cgroup-open file
 *   env-from 1 PATH       replace the environment by PATH's NUL-separated entries
 *   setenv 2 NAME VALUE, unsetenv 1 NAME                                          [ops-cred.c]
 *   ctr-*, cap-bound, cap-set, no-new-privs, close-fds: a container's ops, by domain
 *                         (ops-container.h lists them): the supervisor  [ops-supervisor.c],
 *                         the root  [ops-rootfs.c], the terminal  [ops-tty.c], PID 1
 *                         [ops-init.c], the payload's last steps  [ops-payload.c]
 *   env-clear, exec-chdir (126 on failure), exec-detach, exec-run: nsx exec's ops  [ops-exec.c]
 *   seccomp, seccomp-load, seccomp-check: a container's seccomp filter     [ops-seccomp.c]
 *   devices-bpf, tmpfs, device, rootfs-readonly, shm-size, oom-score-adj, rlimit:
 *                         a container's other security settings            [ops-security.c]
 *   die-with-parent, debug-root, debug-session: nsx debug's ops              [ops-debug.c]
 *   ctr-health: a container's healthcheck, run by its supervisor              [ctr-health.c]
 *   helper-*, map-write, setgroups-write, timens-offset, persist, fork-wait,
 *   proc-private: nsx unshare's ops (outside helper, id maps, persistence)    [ops-unshare.c]
 *
 * ERRORS AND EXIT CODES
 *   A failing op prints "PREFIX: what(target): strerror" and exits 125. exec gives 126/127.
 *   After fork the parent exits with the command's status or dies of its signal.
 *
 * TEST HOOKS
 *   NSX_TEST_PAUSE_BEFORE_PIN=FIFO makes `pin` open FIFO and read one byte before
 *   pidfd_open, so a test can kill the target in between. NSX_TEST_PAUSE_AFTER_FORK=FIFO
 *   does the same in fork-wait's parent between fork and recording the child's pid, so a
 *   test can signal it there. NSX_TEST_PAUSE_CLEANUP_PATHS=FIFO pauses a supervisor's
 *   cleanup after the first path it removes (an --rm container's directory), so a test can
 *   look at a removal half done; NSX_TEST_PAUSE_AFTER_EXIT=FIFO pauses it after it has
 *   recorded the exit, before its cleanup and its end. All are removed from the environment before exec (a
 *   container's is its own) and are meant for the test suite only.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sched.h>

#include "exec.h"

const char *nsx_prefix = "nsx";
char **nsx_argv;
int nsx_argc;

static void vreport(const char *fmt, va_list ap, int err)
{
	char msg[2048];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (err)
		fprintf(stderr, "%s: %s: %s\n", nsx_prefix, msg, strerror(err));
	else
		fprintf(stderr, "%s: %s\n", nsx_prefix, msg);
}

void die(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(fmt, ap, 0);
	va_end(ap);
	exit(code);
}

void die_errno(int code, const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	va_start(ap, fmt);
	vreport(fmt, ap, err);
	va_end(ap);
	exit(code);
}

void warnx_nsx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(fmt, ap, 0);
	va_end(ap);
}

long parse_long(const char *s, const char *what, long min, long max)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die(EXIT_NSX_FAILURE, "invalid plan: bad %s '%s'", what, s);
	return v;
}

static const char *const NS_NAMES[NS_COUNT] = {"mnt", "net", "pid", "user", "uts", "ipc", "cgroup", "time"};
static const int NS_FLAGS[NS_COUNT] = {CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWUSER,
				       CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWCGROUP, 0x00000080 /* CLONE_NEWTIME */};

int ns_index(const char *name)
{
	for (int i = 0; i < NS_COUNT; i++)
		if (strcmp(name, NS_NAMES[i]) == 0)
			return i;
	die(EXIT_NSX_FAILURE, "invalid plan: unknown namespace type '%s'", name);
}

const char *ns_name(int index) { return NS_NAMES[index]; }
int ns_clone_flag(int index) { return NS_FLAGS[index]; }

int ns_flags_from_list(const char *list)
{
	char buf[256];
	int flags = 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		flags |= NS_FLAGS[ns_index(t)];
	return flags;
}

const char *ns_source(struct exec_state *st, int index)
{
	static char buf[64];
	if (st->ns_src[index])
		return st->ns_src[index];
	snprintf(buf, sizeof(buf), "pid %d", (int)st->pid);
	return buf;
}

/* ---- process ops ---- */

/* The command is searched in PATH (execvp), as nsenter and unshare do. */
static void op_exec(struct exec_state *st, char **args, int nargs)
{
	(void)st;
	if (nargs < 1)
		die(EXIT_NSX_FAILURE, "invalid plan: exec needs a command");
	unsetenv("NSX_TEST_PAUSE_BEFORE_PIN");
	unsetenv("NSX_TEST_PAUSE_AFTER_FORK");
	execvp(args[0], args);
	die_errno(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXECUTE, "failed to execute %s", args[0]);
}

/* $SHELL or /bin/sh, started as a login shell ("-bash"), as util-linux does. */
static void op_exec_shell(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	const char *shell = getenv("SHELL");
	if (!shell || !*shell)
		shell = "/bin/sh";
	const char *base = strrchr(shell, '/');
	base = base ? base + 1 : shell;
	char arg0[256];
	snprintf(arg0, sizeof(arg0), "-%s", base);
	unsetenv("NSX_TEST_PAUSE_BEFORE_PIN");
	unsetenv("NSX_TEST_PAUSE_AFTER_FORK");
	execl(shell, arg0, (char *)NULL);
	die_errno(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXECUTE, "failed to execute %s", shell);
}

char *read_whole_file(const char *path, size_t prefix, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die_errno(EXIT_NSX_FAILURE, "open %s", path);
	size_t cap = prefix + 65536, n = prefix;
	char *buf = malloc(cap);
	if (!buf)
		die(EXIT_NSX_FAILURE, "out of memory");
	for (;;) {
		if (cap - n < 4096) {
			cap *= 2;
			char *nb = realloc(buf, cap);
			if (!nb)
				die(EXIT_NSX_FAILURE, "out of memory");
			buf = nb;
		}
		ssize_t r = read(fd, buf + n, cap - n - 2);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die_errno(EXIT_NSX_FAILURE, "read %s", path);
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
}

pid_t fork_plan(struct exec_state *st)
{
	fflush(NULL);
	pid_t child = fork();
	if (child < 0)
		die_errno(EXIT_NSX_FAILURE, "fork");
	if (child == 0)
		st->forked_child = true;
	else
		st->child = child;
	return child;
}

void wait_and_propagate(pid_t child)
{
	int status;
	for (;;) {
		pid_t r = waitpid(child, &status, WUNTRACED);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die_errno(EXIT_NSX_FAILURE, "waitpid(%d)", (int)child);
		}
		if (WIFSTOPPED(status)) {
			/* Job control: when the command stops, stop too so the shell sees it; resume it after. */
			kill(getpid(), SIGSTOP);
			kill(child, SIGCONT);
			continue;
		}
		break;
	}
	propagate_status(status);
}

void propagate_status(int status)
{
	if (WIFEXITED(status))
		exit(WEXITSTATUS(status));
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		/* Die of the same signal, without a second core dump. */
		struct rlimit nocore = {0, 0};
		setrlimit(RLIMIT_CORE, &nocore);
		signal(sig, SIG_DFL);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		kill(getpid(), sig);
		exit(128 + sig); /* a signal whose default is not to die: what a shell would show */
	}
	exit(EXIT_NSX_FAILURE);
}

/* Fork (for a pid namespace, which only children join); only the child returns. */
static void op_fork(struct exec_state *st, char **args, int nargs)
{
	(void)args, (void)nargs;
	signal(SIGCHLD, SIG_DFL);
	pid_t child = fork_plan(st);
	if (child == 0)
		return;
	wait_and_propagate(child);
}

const struct op ops_core[] = {
	{"exec", -1, op_exec, "execvp the command (126 cannot execute, 127 not found)"},
	{"exec-shell", 0, op_exec_shell, "exec $SHELL or /bin/sh as a login shell"},
	{"fork", 0, op_fork, "fork; the parent waits and passes on the child's exit status or signal"},
	{NULL, 0, NULL, NULL},
};

static const struct op *const TABLES[] = {ops_core, ops_ns, ops_fs, ops_cred, ops_supervisor, ops_rootfs, ops_tty, ops_payload, ops_log, ops_attach, ops_init, ops_seccomp, ops_security, ops_unshare, ops_exec, ops_exec_tty, ops_debug, ops_network, ops_health};

static const struct op *find_op(const char *name)
{
	for (size_t t = 0; t < sizeof(TABLES) / sizeof(TABLES[0]); t++)
		for (const struct op *o = TABLES[t]; o->name; o++)
			if (strcmp(o->name, name) == 0)
				return o;
	return NULL;
}

static void list_ops(void)
{
	for (size_t t = 0; t < sizeof(TABLES) / sizeof(TABLES[0]); t++)
		for (const struct op *o = TABLES[t]; o->name; o++)
			printf("%s\t%d\t%s\n", o->name, o->nargs, o->summary);
}

/* Node ignores SIGPIPE (and SIGXFSZ) and ignored signals survive execve: restore the defaults. */
static void reset_signals(void)
{
	signal(SIGPIPE, SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

int main(int argc, char **argv)
{
	nsx_argv = argv;
	nsx_argc = argc;
	if (argc > 0 && argv[0][0] && !strchr(argv[0], '/'))
		nsx_prefix = argv[0];
	if (argc == 2 && strcmp(argv[1], "--ops") == 0) {
		list_ops();
		return 0;
	}
	/*
	 * --flock FD wait|try: an exclusive flock on the open file description FD names (inherited
	 * from the caller). The lock belongs to the description, so it stays the caller's after this
	 * exits: Node takes a container's lock this way without loading an FFI. 0: taken; 1: busy (try).
	 */
	if (argc == 4 && strcmp(argv[1], "--flock") == 0) {
		int fd = (int)parse_long(argv[2], "fd", 0, 1 << 20);
		int op = LOCK_EX | (strcmp(argv[3], "try") == 0 ? LOCK_NB : 0);
		while (flock(fd, op) < 0) {
			if (errno == EWOULDBLOCK)
				return 1;
			if (errno != EINTR)
				die_errno(EXIT_NSX_FAILURE, "flock");
		}
		return 0;
	}
	/*
	 * --wait-gone PID START: returns (0) once process PID of start time START has ended, or at once
	 * if it has; woken by its pidfd (see wait_process_gone in ops-ns.c).
	 */
	if (argc == 4 && strcmp(argv[1], "--wait-gone") == 0) {
		wait_process_gone((pid_t)parse_long(argv[2], "pid", 1, 4194304), (unsigned long long)parse_long(argv[3], "start time", 0, __LONG_MAX__));
		return 0;
	}
	reset_signals();
	/* Started from a memfd (/proc/self/fd/N), the kernel names us "N": name us for ps. */
	prctl(PR_SET_NAME, "nsx-exec", 0, 0, 0);

	/* Validate the whole plan before running any of it: a bad plan changes nothing. */
	for (int i = 1; i < argc;) {
		const struct op *o = find_op(argv[i]);
		if (!o)
			die(EXIT_NSX_FAILURE, "invalid plan: unknown operation '%s'", argv[i]);
		if (o->nargs < 0)
			break;
		if (i + o->nargs >= argc)
			die(EXIT_NSX_FAILURE, "invalid plan: %s needs %d argument(s)", o->name, o->nargs);
		i += 1 + o->nargs;
	}

	struct exec_state st = {.pidfd = -1, .root_fd = -1, .wd_fd = -1, .sync_fd = -1};
	for (int i = 0; i < NS_COUNT; i++)
		st.ns_fd[i] = -1;

	int i = 1;
	while (i < argc) {
		const struct op *o = find_op(argv[i]);
		int n = o->nargs < 0 ? argc - i - 1 : o->nargs;
		o->run(&st, argv + i + 1, n);
		i += 1 + n;
	}
	die(EXIT_NSX_FAILURE, "invalid plan: it does not end with exec or exec-shell");
}
