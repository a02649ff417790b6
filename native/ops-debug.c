/*
 * nsx debug's ops (plan: src/debug/plan.ts): a shell with the host's tools (or a toolbox
 * image's) in a target's pid, net, ipc, uts and cgroup namespaces, the target's root
 * at /target, none of the target's binaries ever run.
 *
 *   die-with-parent 0     PR_SET_PDEATHSIG SIGKILL: killing nsx kills the session
 *   debug-root 2 RW LOWERS  in a mount namespace of our own: clone the target's root tree
 *                         (read-only unless RW is "rw"), build a new root on a tmpfs from
 *                         the host's /usr, /bin, /lib*, /etc, /opt (read-only, symlinks
 *                         copied) or from LOWERS (':'-separated layers, top first, under an
 *                         overlay with a tmpfs upper), with /dev (the host's), a fresh /proc
 *                         of the current pid namespace, a read-only /sys, a tmpfs /tmp and
 *                         the target's tree at /target; pivot_root into it
 *   debug-session 0       a pid namespace of the session's own, nested in the target's:
 *                         fork its first process (killed with its parent); the parent waits
 *                         and passes its status on. When that process ends, the kernel kills
 *                         every process left in the session: nothing stays in the target.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec.h"

static void op_die_with_parent(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		die_errno(EXIT_NSX_FAILURE, "prctl(PR_SET_PDEATHSIG)");
}

/* A detached copy of the mount tree at PATH (with its submounts), read-only on request. */
static int clone_tree(const char *path, bool readonly)
{
	int fd = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (fd < 0)
		die_errno(EXIT_NSX_FAILURE, "clone the mount tree of %s", path);
	if (readonly) {
		struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};
		if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0)
			die_errno(EXIT_NSX_FAILURE, "make the copy of %s read-only", path);
	}
	return fd;
}

static void attach(int fd, const char *dst, const char *what)
{
	if (move_mount(fd, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		die_errno(EXIT_NSX_FAILURE, "mount %s on %s", what, dst);
	close(fd);
}

static void mkdir_ok(const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		die_errno(EXIT_NSX_FAILURE, "mkdir %s", path);
}

static void path_join(char *out, size_t size, const char *a, const char *b)
{
	if ((size_t)snprintf(out, size, "%s/%s", a, b) >= size)
		die(EXIT_NSX_FAILURE, "path too long: %s/%s", a, b);
}

/* The host directories the tools live in; everything else of the host stays out. */
static bool host_tool_dir(const char *name)
{
	static const char *const dirs[] = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "opt", NULL};
	for (int i = 0; dirs[i]; i++)
		if (strcmp(name, dirs[i]) == 0)
			return true;
	return false;
}

static void host_tools(const char *root)
{
	DIR *d = opendir("/");
	if (!d)
		die_errno(EXIT_NSX_FAILURE, "opendir /");
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char src[PATH_MAX], dst[PATH_MAX];
		path_join(src, sizeof(src), "", e->d_name);
		path_join(dst, sizeof(dst), root, e->d_name);
		struct stat sb;
		if (lstat(src, &sb) < 0)
			continue;
		if (S_ISLNK(sb.st_mode)) {
			/* merged /usr: /bin -> usr/bin */
			char link[PATH_MAX];
			ssize_t n = readlink(src, link, sizeof(link) - 1);
			if (n < 0)
				continue;
			link[n] = '\0';
			if (symlink(link, dst) < 0 && errno != EEXIST)
				die_errno(EXIT_NSX_FAILURE, "symlink %s", dst);
		} else if (S_ISDIR(sb.st_mode) && host_tool_dir(e->d_name)) {
			mkdir_ok(dst, 0755);
			attach(clone_tree(src, true), dst, src);
		}
	}
	closedir(d);
}

static void op_debug_root(struct exec_state *st, char **args, int nargs)
{
	(void)nargs;
	bool rw = strcmp(args[0], "rw") == 0;
	const char *lowers = args[1];
	if (st->pidfd < 0)
		die(EXIT_NSX_FAILURE, "invalid plan: debug-root without a pinned target");

	/* The target's root tree, cloned from inside its mount namespace (a bind from
	 * another mount namespace is refused), then back to ours. */
	int self = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		die_errno(EXIT_NSX_FAILURE, "open /proc/self/ns/mnt");
	if (setns(st->pidfd, CLONE_NEWNS) < 0)
		die_errno(EXIT_NSX_FAILURE, "setns(mnt) into pid %d", (int)st->pid);
	int target = clone_tree("/", !rw);
	if (setns(self, CLONE_NEWNS) < 0)
		die_errno(EXIT_NSX_FAILURE, "setns(mnt) back into our own mount namespace");
	close(self);

	/* The layers, opened before the staging tmpfs can hide them (a store under /tmp), are
	 * given to overlayfs as /proc/self/fd/N. */
	char lowerfds[8192] = "";
	if (strcmp(lowers, "-") != 0) {
		char list[8192];
		snprintf(list, sizeof(list), "%s", lowers);
		size_t used = 0;
		for (char *save = NULL, *l = strtok_r(list, ":", &save); l; l = strtok_r(NULL, ":", &save)) {
			int fd = open(l, O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0)
				die_errno(EXIT_NSX_FAILURE, "open the layer %s", l);
			int n = snprintf(lowerfds + used, sizeof(lowerfds) - used, "%s/proc/self/fd/%d", used ? ":" : "", fd);
			if (n < 0 || (size_t)n >= sizeof(lowerfds) - used)
				die(EXIT_NSX_FAILURE, "too many layers for one overlay mount");
			used += (size_t)n;
		}
	}

	/* Staging: a tmpfs over a directory of our own mount namespace's copy of the host. */
	static const char *const staging[] = {"/tmp", "/run", "/mnt", NULL};
	const char *base = NULL;
	for (int i = 0; staging[i] && !base; i++)
		if (mount("nsx-debug", staging[i], "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") == 0)
			base = staging[i];
	if (!base)
		die_errno(EXIT_NSX_FAILURE, "mount a tmpfs for the debug root");
	char root[PATH_MAX], p[PATH_MAX];
	path_join(root, sizeof(root), base, "root");
	mkdir_ok(root, 0755);
	if (strcmp(lowers, "-") == 0) {
		if (mount("nsx-debug", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
			die_errno(EXIT_NSX_FAILURE, "mount the tmpfs root");
		host_tools(root);
	} else {
		char upper[PATH_MAX], work[PATH_MAX], opts[8192];
		path_join(upper, sizeof(upper), base, "upper");
		path_join(work, sizeof(work), base, "work");
		mkdir_ok(upper, 0755);
		mkdir_ok(work, 0755);
		if ((size_t)snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", lowerfds, upper, work) >= sizeof(opts))
			die(EXIT_NSX_FAILURE, "too many layers for one overlay mount");
		if (mount("overlay", root, "overlay", 0, opts) < 0)
			die_errno(EXIT_NSX_FAILURE, "mount the toolbox image's overlay");
	}
	static const char *const dirs[] = {"dev", "proc", "sys", "tmp", "target", NULL};
	for (int i = 0; dirs[i]; i++) {
		path_join(p, sizeof(p), root, dirs[i]);
		mkdir_ok(p, 0755);
	}
	path_join(p, sizeof(p), root, "dev");
	attach(clone_tree("/dev", false), p, "/dev");
	path_join(p, sizeof(p), root, "proc");
	if (mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		die_errno(EXIT_NSX_FAILURE, "mount proc on %s", p);
	path_join(p, sizeof(p), root, "sys");
	if (mount("sysfs", p, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		die_errno(EXIT_NSX_FAILURE, "mount sysfs on %s", p);
	path_join(p, sizeof(p), root, "tmp");
	if (mount("nsx-debug", p, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
		die_errno(EXIT_NSX_FAILURE, "mount tmpfs on %s", p);
	path_join(p, sizeof(p), root, "target");
	attach(target, p, "the target's root");

	if (chdir(root) < 0)
		die_errno(EXIT_NSX_FAILURE, "chdir %s", root);
	pivot_here();
}

static void op_debug_session(struct exec_state *st, char **args, int nargs)
{
	(void)args, (void)nargs;
	if (unshare(CLONE_NEWPID) < 0)
		die_errno(EXIT_NSX_FAILURE, "unshare(pid) for the session");
	signal(SIGCHLD, SIG_DFL);
	pid_t child = fork_plan(st);
	if (child == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
			die_errno(EXIT_NSX_FAILURE, "prctl(PR_SET_PDEATHSIG)");
		return;
	}
	wait_and_propagate(child);
}

const struct op ops_debug[] = {
	{"die-with-parent", 0, op_die_with_parent, "PR_SET_PDEATHSIG SIGKILL"},
	{"debug-root", 2, op_debug_root, "rw|ro LOWERS|-: a new root of the host's tools (or layers) with the target's root at /target, pivot_root"},
	{"debug-session", 0, op_debug_session, "a nested pid namespace; fork its first process, wait and pass its status on"},
	{NULL, 0, NULL, NULL},
};
