/*
 * Container ops for `nsx run`: the supervisor that stays in the host, the container's
 * root (overlayfs, bind mounts, /proc, /sys, /dev, pivot_root, masked and read-only
 * paths), the container's PID 1 (reaper and signal forwarder), and the last steps of
 * the payload (capabilities, no_new_privs, closing inherited fds).
 *
 * Three processes, as in runc/crun with an init:
 *   S  supervisor: nsx's own pid (Node exec'd into us). Stays in the host namespaces,
 *      forwards signals, waits, removes the cgroups and the container directory, and
 *      leaves with the command's status. If S is SIGKILLed, C dies of PDEATHSIG and the
 *      kernel tears down the pid and mount namespaces; `nsx run`/`nsx gc` sweep the rest.
 *   C  PID 1 of the container (after ctr-supervise): sets up the root, then ctr-init
 *      forks the payload and becomes a minimal init (reaps zombies, forwards signals).
 *   G  the payload: drops privileges and execs the command.
 *
 * Every mount happens inside C's mount namespace, never in the host's. Mount targets
 * inside the container root are resolved with openat2(RESOLVE_IN_ROOT) and mounted on
 * through /proc/self/fd, so a symlink in an image (e.g. /proc -> /etc, or a volume
 * target pointing at /) cannot redirect a mount to the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <linux/sched.h>

#include "ctr-attach.h"
#include "ctr-log.h"
#include "exec.h"
#include "ops-init.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif

#define MAX_CLEANUP 32

static struct {
	char *cleanup_cgroups[MAX_CLEANUP];
	int ncgroups;
	char *cleanup_paths[MAX_CLEANUP];
	int npaths;
	int rootfd;      /* O_PATH fd of the container root (before pivot) */
	int status_fd;   /* in C: write end of the pipe to S, for the payload's wait status */
	pid_t payload;   /* in C: the payload's pid */
	int ready_fd;    /* detached runs: closed at exec, so the starter knows the command started */
	int cgroup_fd;   /* a v2 cgroup directory the init is born in */
	bool userns;     /* a new user namespace, created with the pid namespace by clone3 */
	bool rootless;   /* no privilege on the host: overlay with userxattr, device nodes bound */
	char uid_map[256], gid_map[256], setgroups[8];
	/* --userns as root: the supervisor mounts the root in the init's mount namespace, over
	 * idmapped layers (host root owns them, container root sees them as its own) */
	char *idmap_lowers;   /* ':'-separated, lowest first */
	char *idmap_points;   /* ':'-separated mount points for them, same order */
	char *root_upper, *root_work, *root_target;
	int root_sock[2];
	bool tty;        /* -t: a pseudo-terminal from the container's own devpts */
	int pty_sock[2]; /* socketpair: the init sends the pty master to the supervisor */
	char pty_slave[64];
	char *exit_file; /* kept containers: "CODE FINISHED_MS" written when the command ends */
	int out_rd[2];   /* with ctr-log and no tty: the supervisor's ends of the container's stdout and stderr */
	/* --restart, kept by the supervisor: 0 no, 1 on-failure, 2 always (and unless-stopped) */
	int restart_policy, restart_max;
	char *stop_marker; /* written by nsx stop, kill and rm: the end was asked for, no restart */
	unsigned restarts;
	int in_wr;       /* attachable without a terminal: the supervisor's end of the container's stdin */
} ctr = {.in_wr = -1, .out_rd = {-1, -1}, .rootfd = -1, .status_fd = -1, .ready_fd = -1, .cgroup_fd = -1, .pty_sock = {-1, -1}, .root_sock = {-1, -1}};

static bool tty_stdin; /* -i with -t: the supervisor relays its stdin to the terminal */

/* Signals the supervisor and the init pass on to the command. */
static const int FORWARDED[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM};

static void forwarded_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(FORWARDED) / sizeof(FORWARDED[0]); i++)
		sigaddset(set, FORWARDED[i]);
	sigaddset(set, SIGCHLD);
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		die(EXIT_NSX_FAILURE, "out of memory");
	return d;
}

/* ---- supervisor side ---- */

static void op_cgroup_fd(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	if (ctr.cgroup_fd >= 0)
		close(ctr.cgroup_fd);
	ctr.cgroup_fd = open(args[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ctr.cgroup_fd < 0)
		die_errno(EXIT_NSX_FAILURE, "open the cgroup %s", args[0]);
}

/* "0 1000 1,1 100000 65536" -> one mapping per line, as uid_map takes them. */
static void copy_map(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
	for (char *p = dst; *p; p++)
		if (*p == ',')
			*p = '\n';
}

static void op_userns(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	ctr.userns = true;
	copy_map(ctr.uid_map, sizeof(ctr.uid_map), args[0]);
	copy_map(ctr.gid_map, sizeof(ctr.gid_map), args[1]);
	if (strcmp(args[2], "allow") != 0 && strcmp(args[2], "deny") != 0)
		die(EXIT_NSX_FAILURE, "invalid plan: setgroups must be allow or deny, not '%s'", args[2]);
	snprintf(ctr.setgroups, sizeof(ctr.setgroups), "%s", args[2]);
}

static void op_rootless(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	ctr.rootless = true;
}

static void write_proc(pid_t pid, const char *file, const char *value)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, value, strlen(value)) != (ssize_t)strlen(value)) {
		int err = errno;
		kill(pid, SIGKILL);
		errno = err;
		die_errno(EXIT_NSX_FAILURE, "write %s of the container's user namespace (%s)", file, value);
	}
	close(fd);
}

static void op_idmap_layers(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	ctr.idmap_lowers = xstrdup(args[0]);
	ctr.idmap_points = xstrdup(args[1]);
	ctr.root_upper = xstrdup(args[2]);
	ctr.root_work = xstrdup(args[3]);
	ctr.root_target = xstrdup(args[4]);
}

/*
 * In a helper that joins the init's mount namespace with host privilege: each layer bound
 * idmapped to the container's user namespace on its mount point, then the overlay over them
 * (an overlay mounted from inside that user namespace could not read host-owned layers as
 * its root's, and refuses a mounter whose host uid is unmapped there).
 */
static int mount_root_for(pid_t init, const char *upper, const char *work, const char *target)
{
	pid_t h = fork();
	if (h < 0)
		return -1;
	if (h > 0) {
		int status;
		while (waitpid(h, &status, 0) < 0 && errno == EINTR)
			;
		return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)init);
	int mnt = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)init);
	int user = open(path, O_RDONLY | O_CLOEXEC);
	if (mnt < 0 || user < 0 || setns(mnt, CLONE_NEWNS) < 0) {
		warnx_nsx("join the container's mount namespace: %s", strerror(errno));
		_exit(1);
	}
	char lowers[4096], points[4096], opts[4096];
	snprintf(lowers, sizeof(lowers), "%s", ctr.idmap_lowers);
	snprintf(points, sizeof(points), "%s", ctr.idmap_points);
	char *lsave = NULL, *psave = NULL;
	char *mounted[128];
	int nmounted = 0;
	for (char *l = strtok_r(lowers, ":", &lsave), *p = strtok_r(points, ":", &psave); l && p; l = strtok_r(NULL, ":", &lsave), p = strtok_r(NULL, ":", &psave)) {
		if (nmounted >= 128) {
			warnx_nsx("too many layers");
			_exit(1);
		}
		int fd = open_tree(AT_FDCWD, l, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		struct mount_attr a = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)user};
		if (fd < 0 || mount_setattr(fd, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0 || move_mount(fd, "", AT_FDCWD, p, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
			warnx_nsx("idmapped mount of layer %s: %s", l, strerror(errno));
			_exit(1);
		}
		close(fd);
		mounted[nmounted++] = p;
	}
	/* overlayfs takes lowerdir top first */
	char stack[4096];
	size_t len = 0;
	stack[0] = '\0';
	for (int i = nmounted - 1; i >= 0; i--) {
		int n = snprintf(stack + len, sizeof(stack) - len, "%s%s", len ? ":" : "", mounted[i]);
		if (n < 0 || (size_t)n >= sizeof(stack) - len) {
			warnx_nsx("too many layers");
			_exit(1);
		}
		len += (size_t)n;
	}
	if (snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", stack, upper, work) >= (int)sizeof(opts)) {
		warnx_nsx("too many layers");
		_exit(1);
	}
	if (mount("overlay", target, "overlay", 0, opts) < 0) {
		warnx_nsx("mount the overlay root on %s: %s", target, strerror(errno));
		_exit(1);
	}
	_exit(0);
}

/*
 * --userns as root: the init was born with host uid 0, unmapped in its user namespace, so
 * it could not create files there (EOVERFLOW). Once done with host paths, it becomes the
 * container's root (capabilities in its user namespace are kept: effective from permitted).
 */
static void op_become_root(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		die_errno(EXIT_NSX_FAILURE, "become the container's root");
}

static void op_cleanup_cgroup(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	if (ctr.ncgroups >= MAX_CLEANUP)
		die(EXIT_NSX_FAILURE, "invalid plan: too many ctr-cleanup-cgroup");
	ctr.cleanup_cgroups[ctr.ncgroups++] = xstrdup(args[0]);
}

static void op_cleanup_path(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	if (ctr.npaths >= MAX_CLEANUP)
		die(EXIT_NSX_FAILURE, "invalid plan: too many ctr-cleanup-path");
	ctr.cleanup_paths[ctr.npaths++] = xstrdup(args[0]);
}

static void op_exit_file(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	ctr.exit_file = xstrdup(args[0]);
}

/* Whether the kernel's OOM killer killed in one of the container's memory cgroups (v1 memory.oom_control, v2 memory.events). */
static bool oom_killed(void)
{
	for (int i = 0; i < ctr.ncgroups; i++) {
		const char *files[] = {"memory.events", "memory.oom_control"};
		for (int f = 0; f < 2; f++) {
			char path[PATH_MAX], buf[512];
			if (snprintf(path, sizeof(path), "%s/%s", ctr.cleanup_cgroups[i], files[f]) >= (int)sizeof(path))
				continue;
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			ssize_t n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (n <= 0)
				continue;
			buf[n] = 0;
			const char *k = strstr(buf, "oom_kill ");
			if (k && atol(k + 9) > 0)
				return true;
		}
	}
	return false;
}

/* The command's end, docker's way (128+N for a signal), with the time in ms and whether the
 * OOM killer struck: "CODE MS [oom]", read by ps, wait, inspect. */
static void write_exit(int status)
{
	if (!ctr.exit_file)
		return;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : EXIT_NSX_FAILURE;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	char tmp[PATH_MAX], line[64];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", ctr.exit_file) >= (int)sizeof(tmp))
		return;
	int len = snprintf(line, sizeof(line), "%d %lld restarts=%u%s\n", code, (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000, ctr.restarts, oom_killed() ? " oom" : "");
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, line, (size_t)len) != len || fsync(fd) < 0 || close(fd) < 0 || rename(tmp, ctr.exit_file) < 0)
		warnx_nsx("cannot record the exit status in %s: %s", ctr.exit_file, strerror(errno));
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	if (remove(path) < 0 && errno != ENOENT)
		warnx_nsx("cleanup: remove %s: %s", path, strerror(errno));
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* What a container leaves in the host: its cgroups (empty once its pid namespace is gone) and its directory. */
static void cleanup(void)
{
	bool left = false;
	for (int i = ctr.ncgroups - 1; i >= 0; i--) {
		for (int tries = 0;; tries++) {
			if (rmdir(ctr.cleanup_cgroups[i]) == 0 || errno == ENOENT)
				break;
			if (errno != EBUSY || tries >= 500) {
				warnx_nsx("cleanup: rmdir %s: %s", ctr.cleanup_cgroups[i], strerror(errno));
				left = true;
				break;
			}
			sleep_ms(10);
		}
	}
	/* A cgroup that would not go: keep the state that names it, for the next sweep (nsx run, ps, gc). */
	if (left)
		return;
	for (int i = 0; i < ctr.npaths; i++)
		nftw(ctr.cleanup_paths[i], rm_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* "SUPERVISOR START INIT START": the container's identity for ps, stop and enter (written atomically). */
static void write_pids(const char *file, pid_t init)
{
	char tmp[PATH_MAX], line[128];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", file) >= (int)sizeof(tmp))
		die(EXIT_NSX_FAILURE, "path too long: %s", file);
	int len = snprintf(line, sizeof(line), "%d %llu %d %llu\n", (int)getpid(), proc_start_time(getpid(), true), (int)init, proc_start_time(init, true));
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, line, (size_t)len) != len || close(fd) < 0 || rename(tmp, file) < 0)
		warnx_nsx("cannot record the container's pids in %s: %s", file, strerror(errno));
}

/* The pty master, sent by the init over the socketpair (SCM_RIGHTS). */
static int receive_fd(int sock)
{
	char byte;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {&byte, 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	ssize_t n;
	while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n <= 0)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

static bool write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		buf += w;
		len -= (size_t)w;
	}
	return true;
}

static struct termios saved_termios;
static bool termios_saved;

static void restore_terminal(void)
{
	if (termios_saved)
		tcsetattr(0, TCSADRAIN, &saved_termios);
	termios_saved = false;
}

static void copy_winsize(int master)
{
	struct winsize ws;
	if (ioctl(0, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Forward signals, relay the terminal (with -t), wait for the init, clean up, and leave
 * with the command's status. Signals arrive through a signalfd, so one poll serves all.
 */
static int supervise(pid_t child, int status_rd)
{
	sigset_t set;
	forwarded_set(&set);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		die_errno(EXIT_NSX_FAILURE, "signalfd");
	int master = -1;
	if (ctr.tty) {
		master = receive_fd(ctr.pty_sock[0]);
		close(ctr.pty_sock[0]);
		if (master >= 0) {
			copy_winsize(master);
			/* Raw mode: every key, ^C and ^Z included, goes to the container's terminal. */
			if (isatty(0) && tcgetattr(0, &saved_termios) == 0) {
				struct termios raw = saved_termios;
				cfmakeraw(&raw);
				if (tcsetattr(0, TCSADRAIN, &raw) == 0)
					termios_saved = true;
			}
		}
	}
	bool stdin_open = master >= 0 && tty_stdin && !ctr_log_enabled();
	int status = 0;
	bool exited = false;
	char buf[16384];
	/* ctr-term-grace: when a SIGTERM came, the monotonic ms at which the init is SIGKILLed */
	long long kill_at = -1;
	while (!exited || master >= 0 || ctr.out_rd[0] >= 0 || ctr.out_rd[1] >= 0) {
		struct pollfd p[5 + 1 + ATTACH_MAX_CLIENTS] = {{sfd, POLLIN, 0}, {master, POLLIN, 0}, {stdin_open ? 0 : -1, POLLIN, 0}, {ctr.out_rd[0], POLLIN, 0}, {ctr.out_rd[1], POLLIN, 0}};
		int na = ctr_attach_pollfds(p + 5);
		if (exited) {
			/* Drain what the command wrote before it ended; the master reads EIO once no slave is left. */
			p[0].fd = -1;
			p[2].fd = -1;
			na = 0;
		}
		int timeout = exited ? 200 : -1;
		if (!exited && kill_at >= 0) {
			long long left = kill_at - now_ms();
			if (left <= 0) {
				kill(child, SIGKILL); /* the whole pid namespace goes with its init */
				kill_at = -1;
				continue;
			}
			timeout = (int)(left < 1000000 ? left : 1000000);
		}
		int n = poll(p, (nfds_t)(5 + na), timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (n == 0 && exited)
			break;
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				int sig = (int)si.ssi_signo;
				if (sig == SIGCHLD) {
					if (waitpid(child, &status, WNOHANG) == child)
						exited = true;
				} else if (sig == SIGWINCH && master >= 0) {
					copy_winsize(master); /* the kernel tells the container's foreground */
				} else {
					kill(child, sig);
					if (sig == SIGTERM && kill_at < 0 && init_term_grace_ms() >= 0)
						kill_at = now_ms() + init_term_grace_ms();
				}
			}
		}
		for (int s = 0; s < 2; s++) {
			if (ctr.out_rd[s] < 0 || !(p[3 + s].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t r = read(ctr.out_rd[s], buf, sizeof(buf));
			if (r > 0) {
				ctr_log_write((enum log_stream)s, buf, (size_t)r);
				ctr_attach_broadcast(s + 1, buf, (size_t)r);
			}
			else if (r == 0 || errno != EINTR) {
				close(ctr.out_rd[s]);
				ctr.out_rd[s] = -1;
			}
		}
		if (master >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t r = read(master, buf, sizeof(buf));
			if (r > 0 && ctr_log_enabled()) {
				ctr_log_write(LOG_STDOUT, buf, (size_t)r);
				ctr_attach_broadcast(1, buf, (size_t)r);
			} else if (r > 0)
				write_all(1, buf, (size_t)r);
			else if (r < 0 && errno == EINTR)
				continue;
			else {
				close(master);
				master = -1;
			}
		}
		if (stdin_open && (p[2].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t r = read(0, buf, sizeof(buf));
			if (r > 0) {
				if (master >= 0)
					write_all(master, buf, (size_t)r);
			} else if (r == 0 || errno != EINTR) {
				stdin_open = false;
				/* End of input: the terminal's EOF character, as a user's ^D would send. */
				if (master >= 0) {
					struct termios t;
					char eof = tcgetattr(master, &t) == 0 ? (char)t.c_cc[VEOF] : 4;
					write_all(master, &eof, 1);
				}
			}
		}
		ctr_attach_handle(p + 5, na, master >= 0 ? master : ctr.in_wr);
		if (master < 0 && !exited) {
			/* No terminal (or it closed): just wait for the init. */
			if (waitpid(child, &status, WNOHANG) == child)
				exited = true;
		}
	}
	if (!exited)
		while (waitpid(child, &status, 0) < 0 && errno == EINTR)
			;
	restore_terminal();
	ctr_log_flush();
	close(sfd);
	if (master >= 0)
		close(master);
	/* The init reports the payload's own wait status, so a signal death is passed on as one. */
	int payload_status;
	if (read(status_rd, &payload_status, sizeof(payload_status)) == (ssize_t)sizeof(payload_status))
		status = payload_status;
	close(status_rd);
	write_exit(status);
	return status;
}

static void op_restart(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	ctr.restart_policy = strcmp(args[0], "on-failure") == 0 ? 1 : strcmp(args[0], "always") == 0 || strcmp(args[0], "unless-stopped") == 0 ? 2 : 0;
	ctr.restart_max = atoi(args[1]);
	ctr.stop_marker = xstrdup(args[2]);
}

/*
 * Whether to run the container again (docker's policies), after a back-off that doubles from
 * 100 ms up to a minute (back to 100 ms after a run of 10 s or more). A stop asked for (nsx stop,
 * kill, rm: the marker file, or a signal to us while we wait) ends it.
 */
static bool restart_after(int status, long long ran_ms)
{
	static long backoff_ms = 100;
	if (ctr.restart_policy == 0 || access(ctr.stop_marker, F_OK) == 0)
		return false;
	bool failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (ctr.restart_policy == 1 && (!failed || (ctr.restart_max > 0 && (int)ctr.restarts >= ctr.restart_max)))
		return false;
	if (ran_ms >= 10000)
		backoff_ms = 100;
	sigset_t set;
	forwarded_set(&set);
	/* Only a request to end counts: a late SIGCHLD (the last run's processes) or a
	 * window change must not cancel the restart. */
	sigdelset(&set, SIGCHLD);
	sigdelset(&set, SIGWINCH);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	struct pollfd p = {sfd, POLLIN, 0};
	int n = poll(&p, 1, (int)backoff_ms);
	if (sfd >= 0)
		close(sfd);
	backoff_ms = backoff_ms * 2 > 60000 ? 60000 : backoff_ms * 2;
	if (n != 0 || access(ctr.stop_marker, F_OK) == 0)
		return false; /* a signal (nsx stop) while waiting: stay down */
	ctr.restarts++;
	return true;
}



/*
 * Fork the container's first process (PID 1 of the pid namespace unshared before).
 * The parent becomes the supervisor and never returns; the child continues the plan.
 */
static void op_supervise(struct exec_state *st, char **args, int nargs)
{
	(void)nargs;
	for (;;) {
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		die_errno(EXIT_NSX_FAILURE, "pipe");
	int self = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (ctr.tty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctr.pty_sock) < 0)
		die_errno(EXIT_NSX_FAILURE, "socketpair");
	if (ctr.idmap_lowers && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctr.root_sock) < 0)
		die_errno(EXIT_NSX_FAILURE, "socketpair");
	sigset_t set;
	forwarded_set(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fflush(NULL);
	/* A logged container without a terminal: its stdout and stderr are pipes the supervisor logs apart. */
	int outp[2] = {-1, -1}, errp[2] = {-1, -1}, inp[2] = {-1, -1};
	if (ctr_log_enabled() && !ctr.tty && (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0))
		die_errno(EXIT_NSX_FAILURE, "pipe");
	/* Attachable without a terminal: stdin is a pipe the attached clients write to (ctr-stdin-null
	 * replaces it with /dev/null for a container without -i). */
	if (ctr_attach_enabled() && !ctr.tty && pipe2(inp, O_CLOEXEC) < 0)
		die_errno(EXIT_NSX_FAILURE, "pipe");
	/* Input the container does not read is dropped, never a supervisor blocked on a full pipe. */
	if (inp[1] >= 0)
		fcntl(inp[1], F_SETFL, O_NONBLOCK);
	int upipe[2] = {-1, -1};
	if (ctr.userns && pipe2(upipe, O_CLOEXEC) < 0)
		die_errno(EXIT_NSX_FAILURE, "pipe");
	pid_t child;
	if (ctr.cgroup_fd >= 0 || ctr.userns) {
		/* Born in its cgroup (no migration: a write to cgroup.procs waits for an RCU grace
		 * period), and with a user namespace, in new user and pid namespaces at once, so
		 * the pid namespace belongs to the user namespace (as /proc needs). */
		struct clone_args ca;
		memset(&ca, 0, sizeof(ca));
		ca.exit_signal = SIGCHLD;
		if (ctr.cgroup_fd >= 0) {
			ca.flags |= CLONE_INTO_CGROUP;
			ca.cgroup = (uint64_t)ctr.cgroup_fd;
		}
		if (ctr.userns)
			ca.flags |= CLONE_NEWUSER | CLONE_NEWPID;
		child = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	} else {
		child = fork();
	}
	if (child < 0)
		die_errno(EXIT_NSX_FAILURE, "fork the container's init");
	if (child > 0 && ctr.userns) {
		/* The maps are written from outside, by the parent, before the child goes on. */
		close(upipe[0]);
		write_proc(child, "setgroups", ctr.setgroups);
		write_proc(child, "uid_map", ctr.uid_map);
		write_proc(child, "gid_map", ctr.gid_map);
		if (write(upipe[1], "m", 1) != 1)
			die_errno(EXIT_NSX_FAILURE, "start the container's init");
		close(upipe[1]);
	}
	if (child == 0 && ctr.userns) {
		close(upipe[1]);
		char c;
		if (read(upipe[0], &c, 1) != 1)
			_exit(EXIT_NSX_FAILURE);
		close(upipe[0]);
	}
	/* The supervisor keeps its cgroup fd for a restart's init. */
	if (ctr.cgroup_fd >= 0 && (child == 0 || ctr.restart_policy == 0)) {
		close(ctr.cgroup_fd);
		ctr.cgroup_fd = -1;
	}
	if (inp[0] >= 0) {
		if (child > 0) {
			close(inp[0]);
			if (ctr.in_wr >= 0)
				close(ctr.in_wr);
			ctr.in_wr = inp[1];
		} else {
			if (dup2(inp[0], 0) < 0)
				_exit(EXIT_NSX_FAILURE);
			close(inp[0]);
			close(inp[1]);
			if (ctr.in_wr >= 0)
				close(ctr.in_wr);
		}
	}
	if (outp[0] >= 0) {
		if (child > 0) {
			close(outp[1]);
			close(errp[1]);
			ctr.out_rd[0] = outp[0];
			ctr.out_rd[1] = errp[0];
		} else {
			/* dup2 clears close-on-exec: the command inherits them as 1 and 2. */
			if (dup2(outp[1], 1) < 0 || dup2(errp[1], 2) < 0)
				_exit(EXIT_NSX_FAILURE);
			close(outp[0]);
			close(outp[1]);
			close(errp[0]);
			close(errp[1]);
		}
	}
	if (child > 0) {
		ctr_log_open();
		ctr_attach_open();
		close(pfd[1]);
		if (self >= 0)
			close(self);
		/* Only the command holds the ready fd: its exec (or exit) is what the starter waits for. */
		if (ctr.ready_fd >= 0)
			close(ctr.ready_fd);
		ctr.ready_fd = -1;
		if (ctr.pty_sock[1] >= 0)
			close(ctr.pty_sock[1]);
		st->child = child;
		write_pids(args[0], child);
		if (ctr.idmap_lowers) {
			/* The init asks once its mount namespace is private; a failure is its to report. */
			close(ctr.root_sock[1]);
			char c;
			if (read(ctr.root_sock[0], &c, 1) == 1) {
				c = mount_root_for(child, ctr.root_upper, ctr.root_work, ctr.root_target) == 0 ? 'o' : 'e';
				if (write(ctr.root_sock[0], &c, 1) < 0) {
					/* the init is gone; supervise() sees it */
				}
			}
			close(ctr.root_sock[0]);
		}
		long long started = now_ms();
		int status = supervise(child, pfd[0]);
		if (restart_after(status, now_ms() - started)) {
			/* A pid namespace whose init has died takes no new process: the next init gets a new one.
			 * The kernel refuses a second unshare while the children's pid namespace is not ours,
			 * so go back to ours first (setns to our own pid namespace resets it). */
			int own = ctr.userns ? -1 : open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
			if (!ctr.userns && (own < 0 || setns(own, CLONE_NEWPID) < 0 || unshare(CLONE_NEWPID) < 0)) {
				warnx_nsx("restart: a new pid namespace: %s", strerror(errno));
				if (own >= 0)
					close(own);
			} else {
				if (own >= 0)
					close(own);
				ctr.out_rd[0] = ctr.out_rd[1] = -1;
				ctr.pty_sock[0] = ctr.pty_sock[1] = -1;
				ctr.root_sock[0] = ctr.root_sock[1] = -1;
				continue;
			}
		}
		ctr_attach_close();
		cleanup();
		propagate_status(status);
	}
	st->forked_child = true;
	/* Die with the supervisor: nothing of the container outlives an nsx killed by SIGKILL. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (self >= 0) {
		struct pollfd p = {self, POLLIN, 0};
		if (poll(&p, 1, 0) > 0)
			_exit(EXIT_NSX_FAILURE);
		close(self);
	}
	/* Not dumpable: the container cannot open /proc/1/exe or ptrace its init (CVE-2019-5736). */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	close(pfd[0]);
	ctr.status_fd = pfd[1];
	if (ctr.pty_sock[0] >= 0) {
		close(ctr.pty_sock[0]);
		ctr.pty_sock[0] = -1;
	}
	if (ctr.root_sock[0] >= 0) {
		close(ctr.root_sock[0]);
		ctr.root_sock[0] = -1;
	}
	/* Out of the terminal's process group: signals reach the command once, through us. */
	setsid();
	return;
	}
}

/* ---- the container's root ---- */

static int open_in_root(const char *path, int flags)
{
	struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	return (int)syscall(SYS_openat2, ctr.rootfd, path, &how, sizeof(how));
}

/*
 * An O_PATH fd of PATH inside the container root, creating it (a directory, or an empty
 * file when kind is 'f') and its missing parents, as runc's securejoin + MkdirAll: each
 * component is looked up without following symlinks; a symlink's target is spliced into
 * the rest of the path and resolved inside the root (".." stops at the root), so even a
 * dangling symlink to a host path creates the target inside the container.
 */
static int mount_target(const char *path, char kind)
{
	if (ctr.rootfd < 0)
		die(EXIT_NSX_FAILURE, "invalid plan: a container mount before ctr-rootfs");
	char rem[2 * PATH_MAX], res[PATH_MAX] = "";
	if (snprintf(rem, sizeof(rem), "%s", path) >= (int)sizeof(rem))
		die(EXIT_NSX_FAILURE, "path too long: %s", path);
	int links = 0;
	char *p = rem;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char *end = strchrnul(p, '/');
		char comp[NAME_MAX + 1];
		if (end - p > NAME_MAX)
			die(EXIT_NSX_FAILURE, "path component too long in %s", path);
		memcpy(comp, p, (size_t)(end - p));
		comp[end - p] = '\0';
		p = end;
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			char *slash = strrchr(res, '/');
			if (slash)
				*slash = '\0';
			else
				res[0] = '\0';
			continue;
		}
		char cur[PATH_MAX];
		if (snprintf(cur, sizeof(cur), "%s%s%s", res, res[0] ? "/" : "", comp) >= (int)sizeof(cur))
			die(EXIT_NSX_FAILURE, "path too long: %s", path);
		int fd = open_in_root(cur, O_PATH | O_NOFOLLOW);
		if (fd < 0) {
			if (errno != ENOENT || !kind)
				die_errno(EXIT_NSX_FAILURE, "resolve %s in the container", path);
			int parent = open_in_root(res, O_PATH | O_DIRECTORY);
			if (parent < 0)
				die_errno(EXIT_NSX_FAILURE, "resolve %s in the container", path);
			bool last = *p == '\0' || strspn(p, "/") == strlen(p);
			if (last && kind == 'f') {
				int f = openat(parent, comp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
				if (f < 0)
					die_errno(EXIT_NSX_FAILURE, "create %s in the container", path);
				close(f);
			} else if (mkdirat(parent, comp, 0755) < 0) {
				die_errno(EXIT_NSX_FAILURE, "create %s in the container", path);
			}
			close(parent);
			snprintf(res, sizeof(res), "%s", cur);
			continue;
		}
		struct stat sb;
		if (fstat(fd, &sb) < 0)
			die_errno(EXIT_NSX_FAILURE, "stat %s in the container", cur);
		if (S_ISLNK(sb.st_mode)) {
			if (++links > 40)
				die(EXIT_NSX_FAILURE, "resolve %s in the container: too many levels of symbolic links", path);
			char target[PATH_MAX], rest[2 * PATH_MAX];
			ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
			if (n < 0)
				die_errno(EXIT_NSX_FAILURE, "readlink %s in the container", cur);
			target[n] = '\0';
			if (target[0] == '/')
				res[0] = '\0';
			if (snprintf(rest, sizeof(rest), "%s/%s", target, p) >= (int)sizeof(rest))
				die(EXIT_NSX_FAILURE, "path too long: %s", path);
			memcpy(rem, rest, strlen(rest) + 1);
			p = rem;
		} else {
			snprintf(res, sizeof(res), "%s", cur);
		}
		close(fd);
	}
	int fd = open_in_root(res, O_PATH);
	if (fd < 0)
		die_errno(EXIT_NSX_FAILURE, "resolve %s in the container", path);
	return fd;
}

static const char *fd_path(int fd)
{
	static char buf[2][64];
	static int which;
	which ^= 1;
	snprintf(buf[which], sizeof(buf[which]), "/proc/self/fd/%d", fd);
	return buf[which];
}

static void mount_in_root(const char *src, const char *path, const char *fstype, unsigned long flags, const char *data, const char *what)
{
	int fd = mount_target(path, 'd');
	if (mount(src, fd_path(fd), fstype, flags, data) < 0)
		die_errno(EXIT_NSX_FAILURE, "mount %s on %s", what, path);
	close(fd);
}

/* The overlay root, mounted in the container's mount namespace only. LOWERS is top first, ':'-separated. */
static void op_rootfs(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	if (ctr.idmap_lowers) {
		char c = 'r';
		if (write(ctr.root_sock[1], &c, 1) != 1 || read(ctr.root_sock[1], &c, 1) != 1 || c != 'o')
			die(EXIT_NSX_FAILURE, "the supervisor could not mount the container's root (see above)");
		close(ctr.root_sock[1]);
		ctr.root_sock[1] = -1;
		ctr.rootfd = open(args[3], O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (ctr.rootfd < 0)
			die_errno(EXIT_NSX_FAILURE, "open %s", args[3]);
		return;
	}
	char opts[4096];
	/* In a user namespace overlayfs may use only user.overlay.* xattrs (rootless layers carry those). */
	int n = snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s%s", args[0], args[1], args[2], ctr.userns ? ",userxattr" : "");
	if (n >= (int)sizeof(opts))
		die(EXIT_NSX_FAILURE, "too many layers: the overlay options exceed %zu bytes", sizeof(opts));
	if (mount("overlay", args[3], "overlay", 0, opts) < 0)
		die_errno(EXIT_NSX_FAILURE, "mount the overlay root on %s", args[3]);
	ctr.rootfd = open(args[3], O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctr.rootfd < 0)
		die_errno(EXIT_NSX_FAILURE, "open %s", args[3]);
}

/* -v SRC:DST[:ro]: a host path bound into the container (recursively), read-only on request. */
static void op_bind(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	struct stat sb;
	if (stat(args[0], &sb) < 0)
		die_errno(EXIT_NSX_FAILURE, "volume source %s", args[0]);
	int fd = mount_target(args[1], S_ISDIR(sb.st_mode) ? 'd' : 'f');
	if (mount(args[0], fd_path(fd), NULL, MS_BIND | MS_REC, NULL) < 0)
		die_errno(EXIT_NSX_FAILURE, "bind %s on %s", args[0], args[1]);
	close(fd);
	if (strcmp(args[2], "ro") == 0) {
		fd = open_in_root(args[1], O_PATH);
		if (fd < 0)
			die_errno(EXIT_NSX_FAILURE, "resolve %s in the container", args[1]);
		if (mount(NULL, fd_path(fd), NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, NULL) < 0)
			die_errno(EXIT_NSX_FAILURE, "make %s read-only", args[1]);
		close(fd);
	}
}

static void op_proc(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	mount_in_root("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, "proc");
}

static void op_sys(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	int fd = mount_target("/sys", 'd');
	unsigned long ro = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY;
	if (mount("sysfs", fd_path(fd), "sysfs", ro, NULL) < 0) {
		/* sysfs of a network namespace we do not own (--network host in a user namespace): bind the host's. */
		if (errno != EPERM)
			die_errno(EXIT_NSX_FAILURE, "mount sysfs on /sys");
		if (mount("/sys", fd_path(fd), NULL, MS_BIND | MS_REC, NULL) < 0)
			die_errno(EXIT_NSX_FAILURE, "bind /sys");
		close(fd);
		fd = open_in_root("/sys", O_PATH);
		if (fd < 0 || mount(NULL, fd_path(fd), NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
			die_errno(EXIT_NSX_FAILURE, "make /sys read-only");
	}
	close(fd);
}

/*
 * /sys/fs/cgroup inside: KIND tmpfs|cgroup|cgroup2|symlink|remount-ro, ARG the v1 controllers (cgroup)
 * or the link's target (symlink), else "-". Mounted in the container's cgroup namespace,
 * so each hierarchy's root is the container's own cgroup (docker's and podman's layout).
 */
static void op_cgroupfs(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	const char *kind = args[0], *arg = args[1], *path = args[2];
	unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC | (strcmp(args[3], "ro") == 0 ? MS_RDONLY : 0);
	if (strcmp(kind, "symlink") == 0) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s", path);
		char *slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			die(EXIT_NSX_FAILURE, "invalid plan: ctr-cgroupfs symlink %s", path);
		*slash = '\0';
		int parent = mount_target(dir, 'd');
		if (symlinkat(arg, parent, slash + 1) < 0 && errno != EEXIST)
			die_errno(EXIT_NSX_FAILURE, "symlink %s in the container", path);
		close(parent);
		return;
	}
	if (strcmp(kind, "tmpfs") == 0)
		mount_in_root("tmpfs", path, "tmpfs", flags & ~MS_RDONLY, "mode=755", "tmpfs");
	else if (strcmp(kind, "cgroup") == 0)
		mount_in_root("cgroup", path, "cgroup", flags, arg, "the cgroup hierarchy");
	else if (strcmp(kind, "remount-ro") == 0) {
		/* the tmpfs once the hierarchies are on it: read-only (its mounts keep their own flags) */
		int fd = mount_target(path, 'd');
		if (mount(NULL, fd_path(fd), NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
			die_errno(EXIT_NSX_FAILURE, "make %s read-only", path);
		close(fd);
	} else if (strcmp(kind, "cgroup2") == 0)
		mount_in_root("cgroup2", path, "cgroup2", flags, NULL, "the cgroup2 tree");
	else
		die(EXIT_NSX_FAILURE, "invalid plan: ctr-cgroupfs kind '%s'", kind);
}

/* A minimal /dev: a tmpfs with the usual nodes, its own devpts, shm and mqueue. */
static void op_dev(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	mount_in_root("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k", "tmpfs");
	int dev = open_in_root("/dev", O_PATH | O_DIRECTORY);
	if (dev < 0)
		die_errno(EXIT_NSX_FAILURE, "open /dev in the container");
	static const struct {
		const char *name;
		unsigned ma, mi;
	} nodes[] = {{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		if (ctr.userns) {
			/* No mknod in a user namespace: bind the host's node over an empty file, as rootless runc does. */
			int f = openat(dev, nodes[i].name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
			if (f < 0)
				die_errno(EXIT_NSX_FAILURE, "create /dev/%s", nodes[i].name);
			char host[32], target[64];
			snprintf(host, sizeof(host), "/dev/%s", nodes[i].name);
			int t = openat(dev, nodes[i].name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
			close(f);
			snprintf(target, sizeof(target), "/proc/self/fd/%d", t);
			if (t < 0 || mount(host, target, NULL, MS_BIND, NULL) < 0)
				die_errno(EXIT_NSX_FAILURE, "bind %s", host);
			close(t);
			continue;
		}
		if (mknodat(dev, nodes[i].name, S_IFCHR | 0666, makedev(nodes[i].ma, nodes[i].mi)) < 0)
			die_errno(EXIT_NSX_FAILURE, "mknod /dev/%s", nodes[i].name);
		if (fchmodat(dev, nodes[i].name, 0666, 0) < 0)
			die_errno(EXIT_NSX_FAILURE, "chmod /dev/%s", nodes[i].name);
	}
	static const struct {
		const char *name, *target;
	} links[] = {{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
		     {"stderr", "/proc/self/fd/2"}, {"core", "/proc/kcore"}, {"ptmx", "pts/ptmx"}};
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		/* As runc: /dev/core only where the kernel has a /proc/kcore. */
		if (strcmp(links[i].name, "core") == 0 && access("/proc/kcore", F_OK) < 0)
			continue;
		if (symlinkat(links[i].target, dev, links[i].name) < 0)
			die_errno(EXIT_NSX_FAILURE, "symlink /dev/%s", links[i].name);
	}
	close(dev);
	/* gid 5 (tty) is not mapped in a rootless user namespace: there the ptys keep the owner's group. */
	mount_in_root("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, ctr.rootless ? "newinstance,ptmxmode=0666,mode=0620" : "newinstance,ptmxmode=0666,mode=0620,gid=5", "devpts");
	mount_in_root("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k", "tmpfs");
	mount_in_root("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, "mqueue");
}

static void op_hostname(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	if (sethostname(args[0], strlen(args[0])) < 0)
		die_errno(EXIT_NSX_FAILURE, "sethostname(%s)", args[0]);
}

static void op_loopback(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		die_errno(EXIT_NSX_FAILURE, "socket");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		die_errno(EXIT_NSX_FAILURE, "read the flags of lo");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		die_errno(EXIT_NSX_FAILURE, "bring lo up");
	close(s);
}

/* pivot_root(".", ".") then detach the old root stacked on top: no path leads back to the host. */
static void op_pivot(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	if (ctr.rootfd < 0)
		die(EXIT_NSX_FAILURE, "invalid plan: ctr-pivot before ctr-rootfs");
	if (fchdir(ctr.rootfd) < 0)
		die_errno(EXIT_NSX_FAILURE, "chdir to the container root");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		die_errno(EXIT_NSX_FAILURE, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		die_errno(EXIT_NSX_FAILURE, "detach the old root");
	if (chdir("/") < 0)
		die_errno(EXIT_NSX_FAILURE, "chdir /");
	close(ctr.rootfd);
	ctr.rootfd = -1;
}

/* runc's maskPath: /dev/null over a file, an empty read-only tmpfs over a directory; absent is fine. */
static void op_mask(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	if (mount("/dev/null", args[0], NULL, MS_BIND, NULL) == 0)
		return;
	if (errno == ENOENT)
		return;
	if (errno != ENOTDIR)
		die_errno(EXIT_NSX_FAILURE, "mask %s", args[0]);
	if (mount("tmpfs", args[0], "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0") < 0)
		die_errno(EXIT_NSX_FAILURE, "mask %s", args[0]);
}

static void op_readonly(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	if (mount(args[0], args[0], NULL, MS_BIND | MS_REC, NULL) < 0) {
		if (errno == ENOENT)
			return;
		die_errno(EXIT_NSX_FAILURE, "make %s read-only", args[0]);
	}
	struct statvfs sv;
	unsigned long keep = 0;
	if (statvfs(args[0], &sv) == 0)
		keep = sv.f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
	if (mount(NULL, args[0], NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | keep, NULL) < 0)
		die_errno(EXIT_NSX_FAILURE, "make %s read-only", args[0]);
}

/* ---- the terminal (-t) ---- */

static void op_tty(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	ctr.tty = true;
	tty_stdin = strcmp(args[0], "stdin") == 0;
}

/* A pty of the container's own devpts (so `tty` names /dev/pts/0 inside); its master goes to the supervisor. */
static void op_pty(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	if (ctr.pty_sock[1] < 0)
		die(EXIT_NSX_FAILURE, "invalid plan: ctr-pty without ctr-tty before ctr-supervise");
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		die_errno(EXIT_NSX_FAILURE, "open /dev/ptmx in the container");
	int unlock = 0, n;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &n) < 0)
		die_errno(EXIT_NSX_FAILURE, "set up the pseudo-terminal");
	snprintf(ctr.pty_slave, sizeof(ctr.pty_slave), "/dev/pts/%d", n);
	char byte = 0;
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(cbuf, 0, sizeof(cbuf));
	struct iovec iov = {&byte, 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &master, sizeof(int));
	if (sendmsg(ctr.pty_sock[1], &msg, 0) < 0)
		die_errno(EXIT_NSX_FAILURE, "send the terminal to the supervisor");
	close(master);
	close(ctr.pty_sock[1]);
	ctr.pty_sock[1] = -1;
}

/* The command's session, controlling terminal and stdio: the container's pty. */
static void op_pty_attach(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	if (!ctr.pty_slave[0])
		die(EXIT_NSX_FAILURE, "invalid plan: ctr-pty-attach without ctr-pty");
	if (setsid() < 0)
		die_errno(EXIT_NSX_FAILURE, "setsid");
	int fd = open(ctr.pty_slave, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die_errno(EXIT_NSX_FAILURE, "open %s", ctr.pty_slave);
	if (ioctl(fd, TIOCSCTTY, 0) < 0)
		die_errno(EXIT_NSX_FAILURE, "make %s the controlling terminal", ctr.pty_slave);
	for (int i = 0; i < 3; i++)
		if (dup2(fd, i) < 0)
			die_errno(EXIT_NSX_FAILURE, "dup2");
	close(fd);
}

/* ---- PID 1 ---- */

static void write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, value, strlen(value)) < 0) {
		/* best effort */
	}
	close(fd);
}

/*
 * Fork the payload; this process stays as the container's init: it reaps every
 * zombie, forwards signals to the payload, and when the payload ends, reports its
 * wait status to the supervisor and exits (the kernel then kills what is left).
 */
static void op_init(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	sigset_t set;
	forwarded_set(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	char adj[16] = "0";
	int afd = open("/proc/self/oom_score_adj", O_RDONLY | O_CLOEXEC);
	if (afd >= 0) {
		ssize_t n = read(afd, adj, sizeof(adj) - 1);
		adj[n > 0 ? n : 0] = '\0';
		close(afd);
	}
	/* The OOM killer picks the payload, not the init: the payload's death is then reported as such. */
	write_file("/proc/self/oom_score_adj", "-1000");
	fflush(NULL);
	pid_t g = fork();
	if (g < 0)
		die_errno(EXIT_NSX_FAILURE, "fork the command");
	if (g == 0) {
		write_file("/proc/self/oom_score_adj", adj);
		if (ctr.status_fd >= 0)
			close(ctr.status_fd);
		ctr.status_fd = -1;
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		return;
	}
	ctr.payload = g;
	/* ps in the container shows "nsx-init", not the plan (with the host's paths) that started it. */
	prctl(PR_SET_NAME, "nsx-init", 0, 0, 0);
	if (!init_retitle() && nsx_argc > 0) {
		char *start = nsx_argv[0];
		char *end = nsx_argv[nsx_argc - 1] + strlen(nsx_argv[nsx_argc - 1]);
		if (end > start) {
			memset(start, 0, (size_t)(end - start));
			snprintf(start, (size_t)(end - start) + 1, "nsx-init");
		}
	}
	/* The init holds nothing of the host but its status pipe. */
	int keep = ctr.status_fd;
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull >= 0) {
		dup2(devnull, 0);
		close(devnull);
	}
	if (keep > 3)
		syscall(SYS_close_range, 3, keep - 1, 0);
	syscall(SYS_close_range, keep >= 3 ? keep + 1 : 3, ~0U, 0);
	init_drop_privileges();
	for (;;) {
		siginfo_t info;
		int sig = sigwaitinfo(&set, &info);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(g, sig);
			continue;
		}
		int status;
		pid_t r;
		while ((r = waitpid(-1, &status, WNOHANG)) > 0) {
			if (r != g)
				continue;
			if (keep >= 0 && write(keep, &status, sizeof(status)) < 0) {
				/* the supervisor is gone: nothing to report to */
			}
			_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		}
	}
}

/* ---- the payload's last steps ---- */

static void op_stdin_null(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || dup2(fd, 0) < 0)
		die_errno(EXIT_NSX_FAILURE, "open /dev/null for stdin");
	close(fd);
}

/* -w: created if missing (as docker does), inside the container's root. */
static void op_workdir(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	if (chdir(args[0]) == 0)
		return;
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", args[0]);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(buf, 0755);
		*p = '/';
	}
	mkdir(buf, 0755);
	if (chdir(args[0]) < 0)
		die_errno(EXIT_NSX_FAILURE, "working directory %s", args[0]);
}

static uint64_t parse_mask(const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 16);
	if (errno || end == s || *end)
		die(EXIT_NSX_FAILURE, "invalid plan: bad capability mask '%s'", s);
	return (uint64_t)v;
}

/* Drop every capability outside MASK from the bounding set (needs CAP_SETPCAP: before setuid). */
static void op_cap_bound(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	uint64_t mask = parse_mask(args[0]);
	for (int cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0)
			break; /* past the kernel's last capability */
		if (mask & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			die_errno(EXIT_NSX_FAILURE, "drop capability %d from the bounding set", cap);
	}
}

/* Effective = permitted = MASK (what is left of it after setuid), inheritable and ambient empty. */
/* Permitted and effective become MASK (within what is held), inheritable and ambient empty.
 * WHO prefixes the error ("" for the command, "init: " for the init). */
void set_capabilities(uint64_t mask, const char *who)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	if (syscall(SYS_capget, &hdr, data) < 0)
		die_errno(EXIT_NSX_FAILURE, "%scapget", who);
	for (int i = 0; i < 2; i++) {
		uint32_t m = (uint32_t)(mask >> (32 * i));
		data[i].permitted &= m;
		data[i].effective = data[i].permitted;
		data[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		die_errno(EXIT_NSX_FAILURE, "%scapset", who);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		die_errno(EXIT_NSX_FAILURE, "%sclear the ambient capabilities", who);
}

static void op_cap_set(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	set_capabilities(parse_mask(args[0]), "");
}

static void op_groups(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	gid_t list[64];
	size_t n = 0;
	char buf[1024];
	snprintf(buf, sizeof(buf), "%s", args[0]);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (n >= sizeof(list) / sizeof(list[0]))
			die(EXIT_NSX_FAILURE, "too many supplementary groups");
		list[n++] = (gid_t)parse_long(t, "gid", 0, 4294967294L);
	}
	if (setgroups(n, list) < 0)
		die_errno(EXIT_NSX_FAILURE, "setgroups");
}

static void op_no_new_privs(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die_errno(EXIT_NSX_FAILURE, "set no_new_privs");
}

/* Nothing but stdin, stdout and stderr reaches the command (CVE-2024-21626: leaked fds). */
static void op_close_fds(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	int keep = ctr.ready_fd;
	if (keep >= 3) {
		if (keep > 3)
			syscall(SYS_close_range, 3, keep - 1, 0);
		syscall(SYS_close_range, keep + 1, ~0U, 0);
		/* closed by the exec itself: the starter reads EOF once the command runs */
		fcntl(keep, F_SETFD, FD_CLOEXEC);
	} else if (syscall(SYS_close_range, 3, ~0U, 0) < 0) {
		die_errno(EXIT_NSX_FAILURE, "close_range");
	}
}

/* Detached runs: FD is a pipe to the starter, kept open until the command is exec'd. */
static void op_ready_fd(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	ctr.ready_fd = (int)parse_long(args[0], "fd", 3, 1023);
	if (fcntl(ctr.ready_fd, F_GETFD) < 0)
		die_errno(EXIT_NSX_FAILURE, "ready fd %d", ctr.ready_fd);
}

/* exec as the exec op does (execvp: 126 cannot execute, 127 not found), telling a detached starter which. */
static void op_exec_payload(struct exec_state *st, char **args, int nargs)
{
	(void)st;
	if (nargs < 1)
		die(EXIT_NSX_FAILURE, "invalid plan: ctr-exec needs a command");
	execvp(args[0], args);
	int err = errno;
	int code = err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXECUTE;
	if (ctr.ready_fd >= 0) {
		unsigned char c = (unsigned char)code;
		if (write(ctr.ready_fd, &c, 1) < 0) {
			/* the starter is gone */
		}
	}
	errno = err;
	die_errno(code, "failed to execute %s", args[0]);
}

const struct op ops_container[] = {
	{"ctr-cgroup-fd", 1, op_cgroup_fd, "DIR: a v2 cgroup the init is born in (clone3 CLONE_INTO_CGROUP)"},
	{"ctr-cleanup-cgroup", 1, op_cleanup_cgroup, "DIR: rmdir this cgroup after the container ends"},
	{"ctr-cleanup-path", 1, op_cleanup_path, "PATH: remove this tree after the container ends"},
	{"ctr-restart", 3, op_restart, "POLICY MAX STOPFILE: --restart on-failure|always|unless-stopped, kept by the supervisor (no restart once STOPFILE exists)"},
	{"ctr-exit-file", 1, op_exit_file, "PATH: record the command's exit code and end time there (a kept container)"},
	{"ctr-ready-fd", 1, op_ready_fd, "FD: kept open until the command is exec'd (detached start)"},
	{"ctr-become-root", 0, op_become_root, "setresuid/setresgid 0 in the container's user namespace (after the host paths)"},
	{"ctr-idmap-root", 5, op_idmap_layers, "LOWERS POINTS UPPER WORK TARGET: --userns as root, the supervisor mounts the root over idmapped layers"},
	{"ctr-userns", 3, op_userns, "UIDMAP GIDMAP allow|deny: the init gets a new user namespace (maps ','-separated, written by the supervisor)"},
	{"ctr-rootless", 0, op_rootless, "no host privilege: overlay with userxattr, device nodes bound from the host"},
	{"ctr-supervise", 1, op_supervise, "PIDSFILE: fork the init; the parent supervises, cleans up, passes on the status"},
	{"ctr-rootfs", 4, op_rootfs, "LOWERS UPPER WORK TARGET: mount the overlay root (lowers top first, ':'-separated)"},
	{"ctr-bind", 3, op_bind, "SRC DST rw|ro: bind a host path into the container root"},
	{"ctr-proc", 0, op_proc, "mount a fresh procfs on the root's /proc"},
	{"ctr-sys", 0, op_sys, "mount sysfs read-only on the root's /sys"},
	{"ctr-cgroupfs", 4, op_cgroupfs, "KIND ARG PATH ro|rw: /sys/fs/cgroup inside (tmpfs, cgroup CONTROLLERS, cgroup2, symlink TARGET, remount-ro)"},
	{"ctr-dev", 0, op_dev, "a tmpfs /dev with null zero full random urandom tty, devpts, shm, mqueue"},
	{"ctr-hostname", 1, op_hostname, "NAME: sethostname"},
	{"ctr-loopback", 0, op_loopback, "bring lo up"},
	{"ctr-pivot", 0, op_pivot, "pivot_root into the container root and detach the old root"},
	{"ctr-mask", 1, op_mask, "PATH: hide (/dev/null or an empty read-only tmpfs over it)"},
	{"ctr-readonly", 1, op_readonly, "PATH: bind read-only"},
	{"ctr-tty", 1, op_tty, "stdin|nostdin: -t, the supervisor relays a pseudo-terminal the init creates (and its stdin with -i)"},
	{"ctr-pty", 0, op_pty, "open a pty of the container's devpts; its master goes to the supervisor"},
	{"ctr-pty-attach", 0, op_pty_attach, "setsid, the pty as controlling terminal and stdin/stdout/stderr"},
	{"ctr-init", 0, op_init, "fork the command; stay as PID 1: reap, forward signals, report its status"},
	{"ctr-stdin-null", 0, op_stdin_null, "stdin from /dev/null"},
	{"ctr-workdir", 1, op_workdir, "PATH: chdir, creating it if missing"},
	{"cap-bound", 1, op_cap_bound, "HEXMASK: drop the other capabilities from the bounding set"},
	{"cap-set", 1, op_cap_set, "HEXMASK: effective and permitted to the mask, inheritable and ambient empty"},
	{"ctr-groups", 1, op_groups, "GIDS: set the supplementary groups (comma-separated, may be empty)"},
	{"no-new-privs", 0, op_no_new_privs, "prctl(PR_SET_NO_NEW_PRIVS)"},
	{"close-fds", 0, op_close_fds, "close every fd above 2"},
	{"ctr-exec", -1, op_exec_payload, "ARGV...: execvp the command (126/127), reported to a detached starter"},
	{NULL, 0, NULL, NULL},
};
