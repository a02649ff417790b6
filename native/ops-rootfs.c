/*
 * The container's root, in the init's own mount namespace: the overlay rootfs, binds,
 * /proc, /sys, /sys/fs/cgroup, /dev, hostname, loopback, pivot_root, masked and read-only
 * paths. Mount targets inside the root are resolved with openat2(RESOLVE_IN_ROOT) and
 * mounted on through /proc/self/fd, so a symlink in an image cannot redirect a mount to
 * the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "exec.h"
#include "ops-container.h"

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
	pivot_here();
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

const struct op ops_rootfs[] = {
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
	{NULL, 0, NULL, NULL},
};
