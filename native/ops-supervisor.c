/*
 * The supervisor side of a container: the ops that set up what stays in the host (user-
 * namespace maps, idmapped layers and the overlay mounted for the init, the cgroups and
 * paths removed at the end, the exit record, --restart), and ctr-supervise, which forks the
 * init and supervises it (ctr-relay.c) until the command ends, then cleans up.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/sched.h>

#include "ctr-attach.h"
#include "ctr-log.h"
#include "exec.h"
#include "ops-container.h"

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

static void sleep_ms(long ms);

/*
 * --pid host or container:NAME: the init is born in the supervisor's own pid namespace or
 * in another container's, instead of a new one (the `unshare pid` of a default plan). It is
 * then not PID 1: what the command leaves when it ends is killed through its cgroups.
 */
static void op_pid_ns(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	ctr.pid_shared = true;
	if (strcmp(args[0], "host") == 0)
		return;
	ctr.pid_fd = open(args[0], O_RDONLY | O_CLOEXEC);
	if (ctr.pid_fd < 0)
		die_errno(EXIT_NSX_FAILURE, "open the pid namespace %s", args[0]);
	if (setns(ctr.pid_fd, CLONE_NEWPID) < 0)
		die_errno(EXIT_NSX_FAILURE, "setns(pid) into %s", args[0]);
}

/* A shared pid namespace keeps the command's orphans alive after its init: kill what is left in its cgroups. */
static void kill_left(void)
{
	if (!ctr.pid_shared)
		return;
	for (int tries = 0; tries < 100; tries++) {
		bool any = false;
		for (int i = 0; i < ctr.ncgroups; i++) {
			char path[PATH_MAX];
			if (snprintf(path, sizeof(path), "%s/cgroup.procs", ctr.cleanup_cgroups[i]) >= (int)sizeof(path))
				continue;
			FILE *f = fopen(path, "re");
			if (!f)
				continue;
			long pid;
			while (fscanf(f, "%ld", &pid) == 1)
				if (pid > 0 && kill((pid_t)pid, SIGKILL) == 0)
					any = true;
			fclose(f);
		}
		if (!any)
			return;
		sleep_ms(10);
	}
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
	kill_left();
	ctr_run_exit_hook();
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
	for (int i = 0; i < ctr.npaths; i++) {
		/* A container directory's config.json goes first: every reader (wait, ps, inspect, events)
		 * then finds the container gone at once, never half removed: without its state.json, a
		 * directory still holding config.json reads as created, and a wait took that for the end
		 * with no exit code (0 for an --rm container that exited 1). */
		char config[PATH_MAX];
		if (snprintf(config, sizeof(config), "%s/config.json", ctr.cleanup_paths[i]) < (int)sizeof(config) && unlink(config) < 0 && errno != ENOENT && errno != ENOTDIR)
			warnx_nsx("cleanup: remove %s: %s", config, strerror(errno));
		nftw(ctr.cleanup_paths[i], rm_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
		if (i == 0)
			test_hook_pause("NSX_TEST_PAUSE_CLEANUP_PATHS");
	}
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

static void op_restart(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	ctr.restart_policy = strcmp(args[0], "on-failure") == 0 ? 1 : strcmp(args[0], "always") == 0 || strcmp(args[0], "unless-stopped") == 0 ? 2 : 0;
	ctr.restart_max = atoi(args[1]);
	ctr.stop_marker = xstrdup(args[2]);
	ctr.container_dir = xstrdup(args[2]);
	char *slash = strrchr(ctr.container_dir, '/');
	if (slash && slash != ctr.container_dir)
		*slash = '\0';
}

/* The back-off before a restart: doubles from 100 ms up to a minute, back to 100 ms after a run of 10 s or more. */
static long backoff_ms = 100;

/*
 * nsx update --restart (docker update) on a running container: the new policy, "POLICY MAX" in
 * the container's restart-policy file (written atomically), replaces the one given at the start.
 */
static void reread_restart_policy(void)
{
	char path[PATH_MAX], name[32];
	int max = 0;
	if (snprintf(path, sizeof(path), "%s/restart-policy", ctr.container_dir) >= (int)sizeof(path))
		return;
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	if (fscanf(f, "%31s %d", name, &max) == 2) {
		ctr.restart_policy = strcmp(name, "on-failure") == 0 ? 1 : strcmp(name, "always") == 0 || strcmp(name, "unless-stopped") == 0 ? 2 : 0;
		ctr.restart_max = max;
	}
	fclose(f);
}

/*
 * Whether docker's policy runs the container again after this run. A stop asked for (nsx
 * stop, kill, rm: the marker file) or a container directory removed under us ends it.
 */
static bool restart_due(int status, long long ran_ms)
{
	if (ctr.container_dir)
		reread_restart_policy();
	if (ctr.restart_policy == 0 || access(ctr.stop_marker, F_OK) == 0)
		return false;
	/* The container's directory is gone (its store removed under it): nothing to run again. */
	if (access(ctr.container_dir, F_OK) < 0)
		return false;
	bool failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (ctr.restart_policy == 1 && (!failed || (ctr.restart_max > 0 && (int)ctr.restarts >= ctr.restart_max)))
		return false;
	if (ran_ms >= 10000)
		backoff_ms = 100;
	return true;
}

/* The back-off; false when a stop came meanwhile (a signal to us, or the marker file). */
static bool restart_backoff(void)
{
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
	return n == 0 && access(ctr.stop_marker, F_OK) < 0;
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
	ctr_net_hook_prepare();
	/* The init goes on once its pids are recorded (and, with a user namespace, its maps written):
	 * else, on a loaded machine, it could exec (the starter's ready) before the record exists,
	 * and a ps or gc in between would take a running container for one killed while starting. */
	int upipe[2] = {-1, -1};
	if (pipe2(upipe, O_CLOEXEC) < 0)
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
	if (child > 0) {
		close(upipe[0]);
		test_hook_pause("NSX_TEST_PAUSE_BEFORE_PIDS");
		write_pids(args[0], child);
		if (ctr.userns) {
			/* The maps are written from outside, by the parent, before the child goes on. */
			write_proc(child, "setgroups", ctr.setgroups);
			write_proc(child, "uid_map", ctr.uid_map);
			write_proc(child, "gid_map", ctr.gid_map);
		}
		if (write(upipe[1], "m", 1) != 1)
			die_errno(EXIT_NSX_FAILURE, "start the container's init");
		close(upipe[1]);
	}
	if (child == 0) {
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
		ctr_net_hook_parent(child);
		long long started = now_ms();
		int status = supervise(child, pfd[0]);
		/* As docker's RestartCount: counted when the restart is decided, before the back-off
		 * (a container Restarting, or stopped during it, says so); the record then says it. */
		bool again = restart_due(status, now_ms() - started);
		if (again)
			ctr.restarts++;
		ctr_write_exit(status);
		if (again && restart_backoff()) {
			/* A pid namespace whose init has died takes no new process: the next init gets a new one.
			 * The kernel refuses a second unshare while the children's pid namespace is not ours,
			 * so go back to ours first (setns to our own pid namespace resets it). */
			int own = ctr.userns ? -1 : open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
			kill_left();
			if (!ctr.userns && (own < 0 || setns(own, CLONE_NEWPID) < 0 || (ctr.pid_shared ? ctr.pid_fd >= 0 && setns(ctr.pid_fd, CLONE_NEWPID) < 0 : unshare(CLONE_NEWPID) < 0))) {
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
		/* Test hook: the exit is recorded, the supervisor's end (its cleanup) not yet come. */
		test_hook_pause("NSX_TEST_PAUSE_AFTER_EXIT");
		ctr_attach_close();
		cleanup();
		propagate_status(status);
	}
	st->forked_child = true;
	ctr_net_hook_child();
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

const struct op ops_supervisor[] = {
	{"ctr-cgroup-fd", 1, op_cgroup_fd, "DIR: a v2 cgroup the init is born in (clone3 CLONE_INTO_CGROUP)"},
	{"ctr-pid-ns", 1, op_pid_ns, "host|PATH: the init joins the supervisor's pid namespace or the one at PATH (another container's) instead of a new one"},
	{"ctr-cleanup-cgroup", 1, op_cleanup_cgroup, "DIR: rmdir this cgroup after the container ends"},
	{"ctr-cleanup-path", 1, op_cleanup_path, "PATH: remove this tree after the container ends"},
	{"ctr-restart", 3, op_restart, "POLICY MAX STOPFILE: --restart on-failure|always|unless-stopped, kept by the supervisor (no restart once STOPFILE exists)"},
	{"ctr-exit-file", 1, op_exit_file, "PATH: record the command's exit code and end time there (a kept container)"},
	{"ctr-become-root", 0, op_become_root, "setresuid/setresgid 0 in the container's user namespace (after the host paths)"},
	{"ctr-idmap-root", 5, op_idmap_layers, "LOWERS POINTS UPPER WORK TARGET: --userns as root, the supervisor mounts the root over idmapped layers"},
	{"ctr-userns", 3, op_userns, "UIDMAP GIDMAP allow|deny: the init gets a new user namespace (maps ','-separated, written by the supervisor)"},
	{"ctr-rootless", 0, op_rootless, "no host privilege: overlay with userxattr, device nodes bound from the host"},
	{"ctr-supervise", 1, op_supervise, "PIDSFILE: fork the init; the parent supervises, cleans up, passes on the status"},
	{NULL, 0, NULL, NULL},
};
