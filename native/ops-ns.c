/*
 * Namespace ops: pin the target, open namespace files, setns, unshare.
 *
 * Pinning. pidfd_open(2) returns an fd with O_CLOEXEC, so a pidfd opened in Node
 * would not survive the execve into this program; instead TypeScript resolves the
 * target to (pid, start time from /proc/PID/stat field 22) and `pin` here opens the
 * pidfd and then re-reads the start time. If it still matches, the process that
 * held the pid when the pidfd was opened is the one TypeScript resolved (a process
 * alive before and after cannot have been replaced in between), so every later
 * setns(pidfd, ...) enters that process's namespaces or fails with ESRCH: a reused
 * pid can never redirect us. `pin-check` re-asserts liveness after /proc/PID paths
 * were opened by path, so those opens provably referred to the same process.
 */
#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/nsfs.h>
#include <linux/sockios.h>

#include "exec.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

/*
 * Field 22 of /proc/PID/stat (the start time, in clock ticks since boot), or 0 when the
 * process is gone, or a zombie unless zombie_ok (a zombie has nothing left to enter).
 */
unsigned long long proc_start_time(pid_t pid, bool zombie_ok)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* comm may hold spaces and parens: count fields after the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return 0;
	p += 2; /* field 3, the state */
	if (*p == 'Z' && !zombie_ok)
		return 0;
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return p ? strtoull(p, NULL, 10) : 0;
}

/*
 * Block until process PID, started at START (clock ticks since boot), has ended: a zombie counts
 * as ended, and so does another process under that pid (START differs). A pidfd, polled: woken by
 * the kernel at the exit, never a loop. Used by `nsx-exec --wait-gone`, so Node waits for a
 * container's supervisor to end as an event (a child's exit) rather than by looking again.
 */
void wait_process_gone(pid_t pid, unsigned long long start)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0) {
		if (errno == ESRCH)
			return;
		die_errno(EXIT_NSX_FAILURE, "pidfd_open(%d)", (int)pid);
	}
	/* The pidfd pins whatever runs under PID now: it is the one meant only if its start time is. */
	if (proc_start_time(pid, false) != start) {
		close(fd);
		return;
	}
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while (poll(&p, 1, -1) < 0)
		if (errno != EINTR)
			die_errno(EXIT_NSX_FAILURE, "poll(pidfd of %d)", (int)pid);
	close(fd);
}

/* Test hooks: when the variable names a FIFO, open it and read one byte (see exec.c). */
void test_hook_pause(const char *var)
{
	const char *fifo = getenv(var);
	if (!fifo || !*fifo)
		return;
	int fd = open(fifo, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die_errno(EXIT_NSX_FAILURE, "test hook: open(%s)", fifo);
	char c;
	if (read(fd, &c, 1) < 0)
		die_errno(EXIT_NSX_FAILURE, "test hook: read(%s)", fifo);
	close(fd);
}

static void op_pin(struct exec_state *st, char **args, int nargs)
{
	(void)nargs;
	pid_t pid = (pid_t)parse_long(args[0], "pid", 1, 4194304);
	unsigned long long want = (unsigned long long)parse_long(args[1], "start time", 0, __LONG_MAX__);
	test_hook_pause("NSX_TEST_PAUSE_BEFORE_PIN");
	st->pid = pid;
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0) {
		if (errno == ESRCH)
			die(EXIT_NSX_FAILURE, "process %d has exited", (int)pid);
		die_errno(EXIT_NSX_FAILURE, "pidfd_open(%d)", (int)pid);
	}
	unsigned long long now = proc_start_time(pid, false);
	if (now == 0)
		die(EXIT_NSX_FAILURE, "process %d has exited", (int)pid);
	if (now != want)
		die(EXIT_NSX_FAILURE, "process %d has exited and its pid was reused by another process: refusing to enter", (int)pid);
	st->pidfd = fd;
}

/*
 * A thread as the target (a thread can hold namespaces of its own after setns/unshare):
 * a thread pidfd (PIDFD_THREAD, Linux 6.9) pins it, and setns through it enters that
 * thread's namespaces, not its process's.
 */
static void op_pin_thread(struct exec_state *st, char **args, int nargs)
{
	(void)nargs;
	pid_t tid = (pid_t)parse_long(args[0], "tid", 1, 4194304);
	unsigned long long want = (unsigned long long)parse_long(args[1], "start time", 0, __LONG_MAX__);
	test_hook_pause("NSX_TEST_PAUSE_BEFORE_PIN");
	st->pid = tid;
	int fd = (int)syscall(SYS_pidfd_open, tid, O_EXCL /* PIDFD_THREAD */);
	if (fd < 0) {
		if (errno == ESRCH)
			die(EXIT_NSX_FAILURE, "thread %d has exited", (int)tid);
		if (errno == EINVAL)
			die(EXIT_NSX_FAILURE, "entering a thread's namespaces needs Linux 6.9 (thread pidfds)");
		die_errno(EXIT_NSX_FAILURE, "pidfd_open(thread %d)", (int)tid);
	}
	unsigned long long now = proc_start_time(tid, false);
	if (now == 0)
		die(EXIT_NSX_FAILURE, "thread %d has exited", (int)tid);
	if (now != want)
		die(EXIT_NSX_FAILURE, "thread %d has exited and its id was reused: refusing to enter", (int)tid);
	st->pidfd = fd;
}

static void op_pin_check(struct exec_state *st, char **args, int nargs)
{
	(void)args, (void)nargs;
	if (st->pidfd < 0)
		die(EXIT_NSX_FAILURE, "invalid plan: pin-check without pin");
	if (syscall(SYS_pidfd_send_signal, st->pidfd, 0, NULL, 0) < 0) {
		if (errno == ESRCH)
			die(EXIT_NSX_FAILURE, "process %d has exited", (int)st->pid);
		/* EPERM: alive, but not ours to signal; liveness is all we asked. */
		if (errno != EPERM)
			die_errno(EXIT_NSX_FAILURE, "pidfd_send_signal(%d)", (int)st->pid);
	}
}

static const char *type_of_fd(int fd)
{
	int t = ioctl(fd, NS_GET_NSTYPE);
	if (t < 0)
		return NULL;
	for (int i = 0; i < NS_COUNT; i++)
		if (ns_clone_flag(i) == t)
			return ns_name(i);
	return "unknown";
}

static void op_nsfd(struct exec_state *st, char **args, int nargs)
{
	(void)nargs;
	int idx = ns_index(args[0]);
	/* O_NONBLOCK: a FIFO given as the file must not block the open (it is refused below). */
	int fd = open(args[1], O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		die_errno(EXIT_NSX_FAILURE, "open %s namespace file %s", args[0], args[1]);
	const char *type = type_of_fd(fd);
	if (!type)
		die(EXIT_NSX_FAILURE, "%s is not a namespace file", args[1]);
	if (strcmp(type, args[0]) != 0)
		die(EXIT_NSX_FAILURE, "%s is a %s namespace, not a %s namespace", args[1], type, args[0]);
	if (st->ns_fd[idx] >= 0)
		close(st->ns_fd[idx]);
	st->ns_fd[idx] = fd;
	free(st->ns_src[idx]);
	st->ns_src[idx] = strdup(args[1]);
}

/*
 * The pinned process's namespace file, opened now: setns by pidfd checks ptrace access to the
 * target, which a container's init (its memory made outside its user namespace) refuses to a
 * caller that has entered that user namespace already; a namespace file opened before is not
 * checked again. pin-check afterwards proves the file was the pinned process's.
 */
static void op_nsfd_pinned(struct exec_state *st, char **args, int nargs)
{
	(void)nargs;
	if (st->pid <= 0)
		die(EXIT_NSX_FAILURE, "invalid plan: nsfd-pinned without pin");
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)st->pid, args[0]);
	char *open_args[] = {args[0], path};
	op_nsfd(st, open_args, 2);
	char src[96];
	snprintf(src, sizeof(src), "pid %d", (int)st->pid);
	int idx = ns_index(args[0]);
	free(st->ns_src[idx]);
	st->ns_src[idx] = strdup(src);
}

/* -N/--net-socket FD: the network namespace of a socket the pinned target holds as fd FD. */
static void op_net_socket(struct exec_state *st, char **args, int nargs)
{
	(void)nargs;
	int target_fd = (int)parse_long(args[0], "file descriptor", 0, 1 << 30);
	if (st->pidfd < 0)
		die(EXIT_NSX_FAILURE, "invalid plan: net-socket without pin");
	int sk = (int)syscall(SYS_pidfd_getfd, st->pidfd, target_fd, 0);
	if (sk < 0)
		die_errno(EXIT_NSX_FAILURE, "get fd %d of pid %d", target_fd, (int)st->pid);
	int ns = ioctl(sk, SIOCGSKNS);
	if (ns < 0) {
		if (errno == ENOTTY || errno == EINVAL || errno == ENOTSOCK)
			die(EXIT_NSX_FAILURE, "fd %d of pid %d is not a socket", target_fd, (int)st->pid);
		die_errno(EXIT_NSX_FAILURE, "network namespace of socket fd %d of pid %d", target_fd, (int)st->pid);
	}
	close(sk);
	int idx = ns_index("net");
	if (st->ns_fd[idx] >= 0)
		close(st->ns_fd[idx]);
	st->ns_fd[idx] = ns;
	char src[96];
	snprintf(src, sizeof(src), "socket fd %d of pid %d", target_fd, (int)st->pid);
	free(st->ns_src[idx]);
	st->ns_src[idx] = strdup(src);
}

/* --user-parent: the owner (parent) of the user namespace we would otherwise enter. */
static void op_user_parent(struct exec_state *st, char **args, int nargs)
{
	(void)args, (void)nargs;
	int u = ns_index("user");
	int fd = st->ns_fd[u];
	bool local = false;
	if (fd < 0) {
		char path[64];
		if (st->pid <= 0)
			die(EXIT_NSX_FAILURE, "invalid plan: user-parent without a target");
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)st->pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die_errno(EXIT_NSX_FAILURE, "open %s", path);
		local = true;
	}
	int parent = ioctl(fd, NS_GET_USERNS);
	if (parent < 0)
		die_errno(EXIT_NSX_FAILURE, "parent user namespace of %s", ns_source(st, u));
	char src[128];
	snprintf(src, sizeof(src), "the parent user namespace of %s", ns_source(st, u));
	if (local)
		close(fd);
	else
		close(st->ns_fd[u]);
	st->ns_fd[u] = parent;
	free(st->ns_src[u]);
	st->ns_src[u] = strdup(src);
}

static void do_setns(struct exec_state *st, const char *type, bool fatal)
{
	int idx = ns_index(type);
	if (st->ns_done[idx])
		return;
	int fd = st->ns_fd[idx] >= 0 ? st->ns_fd[idx] : st->pidfd;
	if (fd < 0)
		die(EXIT_NSX_FAILURE, "invalid plan: setns(%s) with neither a namespace file nor a target", type);
	if (setns(fd, ns_clone_flag(idx)) < 0) {
		if (!fatal)
			return;
		if (errno == ESRCH && fd == st->pidfd)
			die(EXIT_NSX_FAILURE, "setns(%s) into pid %d: the process has exited", type, (int)st->pid);
		die_errno(EXIT_NSX_FAILURE, "setns(%s) into %s", type, ns_source(st, idx));
	}
	st->ns_done[idx] = true;
}

static void op_setns(struct exec_state *st, char **args, int nargs)
{
	(void)nargs;
	do_setns(st, args[0], true);
}

static void op_setns_try(struct exec_state *st, char **args, int nargs)
{
	(void)nargs;
	do_setns(st, args[0], false);
}

static void op_unshare(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	if (unshare(ns_flags_from_list(args[0])) < 0)
		die_errno(EXIT_NSX_FAILURE, "unshare(%s)", args[0]);
}

/* Nothing of the target stays open in the command (or in a waiting parent). */
static void op_release_target(struct exec_state *st, char **args, int nargs)
{
	(void)args, (void)nargs;
	if (st->pidfd >= 0)
		close(st->pidfd);
	st->pidfd = -1;
	for (int i = 0; i < NS_COUNT; i++) {
		if (st->ns_fd[i] >= 0)
			close(st->ns_fd[i]);
		st->ns_fd[i] = -1;
	}
}

const struct op ops_ns[] = {
	{"pin", 2, op_pin, "PID START: pidfd_open PID and check its start time (field 22 of stat)"},
	{"pin-thread", 2, op_pin_thread, "TID START: pin a thread (a thread pidfd), to enter its own namespaces"},
	{"pin-check", 0, op_pin_check, "fail if the pinned process has exited"},
	{"nsfd", 2, op_nsfd, "TYPE PATH: open a namespace file and check its type"},
	{"nsfd-pinned", 1, op_nsfd_pinned, "TYPE: open the pinned process's namespace file now, for a setns after the user namespace"},
	{"net-socket", 1, op_net_socket, "FD: enter the network namespace of the target's socket FD (pidfd_getfd)"},
	{"user-parent", 0, op_user_parent, "enter the parent of the target's user namespace instead"},
	{"setns", 1, op_setns, "TYPE: enter from the nsfd or the pinned pidfd; fatal on failure"},
	{"setns-try", 1, op_setns_try, "TYPE: the same, a failure ignored (retried by a later setns)"},
	{"unshare", 1, op_unshare, "TYPES: unshare(2) comma-separated namespace types"},
	{"release-target", 0, op_release_target, "close the pidfd and namespace fds"},
	{NULL, 0, NULL, NULL},
};
