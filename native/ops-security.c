/*
 * A container's security settings besides seccomp (ops-seccomp.c): the cgroup v2 device
 * program, --tmpfs, --device, --read-only, --shm-size, --oom-score-adj and --ulimit.
 * Every path op runs in the container's init after pivot_root, where no path leads back
 * to the host; TypeScript (src/security/) has checked every value.
 *
 *   devices-bpf 2 CGROUPDIR PROGHEX  load the eBPF device program (BPF_PROG_TYPE_CGROUP_DEVICE,
 *                         made by src/security/devices.ts) and attach it to the cgroup2
 *                         directory, as crun does; the kernel detaches it with the cgroup
 *   tmpfs 3 PATH FLAGS DATA  mount a tmpfs on PATH (created if missing); FLAGS a ','-list
 *                         of ro nosuid nodev noexec ('-' none), DATA tmpfs's options
 *   device 7 PATH TYPE MAJOR MINOR MODE UID GID  mknod a device node (parents created)
 *   mkdir-p 1 PATH        create PATH and its parents (the working directory, before a read-only root)
 *   rootfs-readonly 0     remount the container's root read-only
 *   shm-size 1 BYTES      remount /dev/shm with that size
 *   sysctl 2 NAME VALUE   write VALUE to /proc/sys/NAME ('.' for '/'), a sysctl of the container's
 *                         own namespaces (before /proc/sys is made read-only)
 *   oom-score-adj 1 N     write N to /proc/self/oom_score_adj (inherited by the command)
 *   rlimit 3 RESOURCE SOFT HARD  setrlimit (-1: unlimited)
 *   devices-dump 1 CGROUPDIR  for nsx inspect: print "program ID HEX" for each device program in
 *                         effect on the cgroup2 directory (its translated instructions), exit 0
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "exec.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void op_devices_bpf(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	size_t hex = strlen(args[1]);
	if (hex == 0 || hex % 16)
		die(EXIT_NSX_FAILURE, "invalid plan: the device program's length is not whole instructions");
	size_t len = hex / 2;
	unsigned char *prog = malloc(len);
	if (!prog)
		die(EXIT_NSX_FAILURE, "out of memory");
	for (size_t i = 0; i < len; i++) {
		int hi = hexval(args[1][2 * i]), lo = hexval(args[1][2 * i + 1]);
		if (hi < 0 || lo < 0)
			die(EXIT_NSX_FAILURE, "invalid plan: the device program is not hex");
		prog[i] = (unsigned char)(hi << 4 | lo);
	}
	union bpf_attr load;
	memset(&load, 0, sizeof(load));
	load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	load.insns = (__u64)(uintptr_t)prog;
	load.insn_cnt = (__u32)(len / 8);
	load.license = (__u64)(uintptr_t) "GPL";
	int fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load));
	if (fd < 0) {
		/* Again with the verifier's log, for its last line (a bigger log fails with ENOSPC). */
		int err = errno;
		static char log[65536];
		load.log_buf = (__u64)(uintptr_t)log;
		load.log_size = sizeof(log);
		load.log_level = 1;
		syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load));
		size_t n = strlen(log);
		while (n > 0 && log[n - 1] == '\n')
			log[--n] = '\0';
		char *last = strrchr(log, '\n');
		errno = err;
		die_errno(EXIT_NSX_FAILURE, "load the device program%s%s", n ? ": " : "", n ? (last ? last + 1 : log) : "");
	}
	int cg = open(args[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		die_errno(EXIT_NSX_FAILURE, "open the cgroup %s", args[0]);
	union bpf_attr attach;
	memset(&attach, 0, sizeof(attach));
	attach.target_fd = (__u32)cg;
	attach.attach_bpf_fd = (__u32)fd;
	attach.attach_type = BPF_CGROUP_DEVICE;
	attach.attach_flags = BPF_F_ALLOW_MULTI;
	if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof(attach)) < 0)
		die_errno(EXIT_NSX_FAILURE, "attach the device program to %s", args[0]);
	close(cg);
	close(fd);
	free(prog);
}

/* mkdir -p, each component created 0755 when missing. */
static void make_dirs(const char *path, bool last)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		die(EXIT_NSX_FAILURE, "path too long: %s", path);
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || (*p == '\0' && last)) {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				die_errno(EXIT_NSX_FAILURE, "create %s in the container", buf);
			*p = c;
		}
		if (*p == '\0')
			break;
	}
}

static unsigned long flag_bits(const char *list)
{
	unsigned long flags = 0;
	if (strcmp(list, "-") == 0)
		return 0;
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, "ro") == 0)
			flags |= MS_RDONLY;
		else if (strcmp(t, "nosuid") == 0)
			flags |= MS_NOSUID;
		else if (strcmp(t, "nodev") == 0)
			flags |= MS_NODEV;
		else if (strcmp(t, "noexec") == 0)
			flags |= MS_NOEXEC;
		else
			die(EXIT_NSX_FAILURE, "invalid plan: unknown mount flag '%s'", t);
	}
	return flags;
}

static void op_tmpfs(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	make_dirs(args[0], true);
	if (mount("tmpfs", args[0], "tmpfs", flag_bits(args[1]), strcmp(args[2], "-") == 0 ? NULL : args[2]) < 0)
		die_errno(EXIT_NSX_FAILURE, "mount a tmpfs on %s", args[0]);
}

static void op_device(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	const char *path = args[0];
	mode_t type = strcmp(args[1], "b") == 0 ? S_IFBLK : S_IFCHR;
	unsigned major = (unsigned)parse_long(args[2], "major", 0, 4095);
	unsigned minor = (unsigned)parse_long(args[3], "minor", 0, 1048575);
	mode_t mode = (mode_t)parse_long(args[4], "mode", 0, 07777);
	uid_t uid = (uid_t)parse_long(args[5], "uid", 0, 4294967294L);
	gid_t gid = (gid_t)parse_long(args[6], "gid", 0, 4294967294L);
	const char *slash = strrchr(path, '/');
	if (slash && slash != path) {
		char parent[PATH_MAX];
		snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
		make_dirs(parent, true);
	}
	/* An existing node (docker's default /dev/null ...) is replaced. */
	if (unlink(path) < 0 && errno != ENOENT)
		die_errno(EXIT_NSX_FAILURE, "replace %s in the container", path);
	if (mknod(path, type | (mode & 07777), makedev(major, minor)) < 0)
		die_errno(EXIT_NSX_FAILURE, "mknod %s", path);
	if (chmod(path, mode & 07777) < 0 || chown(path, uid, gid) < 0)
		die_errno(EXIT_NSX_FAILURE, "set the owner and mode of %s", path);
}

static void op_mkdir_p(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	make_dirs(args[0], true);
}

static void op_rootfs_readonly(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	struct statvfs sv;
	unsigned long keep = 0;
	if (statvfs("/", &sv) == 0)
		keep = sv.f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
	if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) < 0)
		die_errno(EXIT_NSX_FAILURE, "make the container's root read-only");
}

static void op_shm_size(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	char data[64];
	snprintf(data, sizeof(data), "mode=1777,size=%lld", (long long)parse_long(args[0], "size", 1, (long)1 << 50));
	if (mount("shm", "/dev/shm", "tmpfs", MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC, data) < 0)
		die_errno(EXIT_NSX_FAILURE, "set the size of /dev/shm");
}

static void op_oom_score_adj(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	parse_long(args[0], "oom score adjustment", -1000, 1000);
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, args[0], strlen(args[0])) < 0)
		die_errno(EXIT_NSX_FAILURE, "set oom_score_adj to %s", args[0]);
	close(fd);
}

static void op_sysctl(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	char path[256];
	if (snprintf(path, sizeof(path), "/proc/sys/%s", args[0]) >= (int)sizeof(path) || strstr(args[0], ".."))
		die(EXIT_NSX_FAILURE, "invalid plan: sysctl name '%s'", args[0]);
	for (char *p = path + 10; *p; p++)
		if (*p == '.')
			*p = '/';
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || write(fd, args[1], strlen(args[1])) < 0)
		die_errno(EXIT_NSX_FAILURE, "set the sysctl %s to '%s'", args[0], args[1]);
	close(fd);
}

static void op_rlimit(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	int res = (int)parse_long(args[0], "rlimit", 0, RLIM_NLIMITS - 1);
	long soft = parse_long(args[1], "soft limit", -1, __LONG_MAX__);
	long hard = parse_long(args[2], "hard limit", -1, __LONG_MAX__);
	struct rlimit rl = {soft < 0 ? RLIM_INFINITY : (rlim_t)soft, hard < 0 ? RLIM_INFINITY : (rlim_t)hard};
	if (setrlimit(res, &rl) < 0)
		die_errno(EXIT_NSX_FAILURE, "setrlimit(%d, %s:%s)", res, args[1], args[2]);
}

static void op_devices_dump(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	int cg = open(args[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		die_errno(1, "open the cgroup %s", args[0]);
	__u32 ids[64];
	union bpf_attr q;
	memset(&q, 0, sizeof(q));
	q.query.target_fd = (__u32)cg;
	q.query.attach_type = BPF_CGROUP_DEVICE;
	q.query.query_flags = BPF_F_QUERY_EFFECTIVE;
	q.query.prog_ids = (__u64)(uintptr_t)ids;
	q.query.prog_cnt = 64;
	if (syscall(SYS_bpf, BPF_PROG_QUERY, &q, sizeof(q)) < 0)
		die_errno(1, "query the device programs of %s", args[0]);
	for (__u32 i = 0; i < q.query.prog_cnt; i++) {
		union bpf_attr g;
		memset(&g, 0, sizeof(g));
		g.prog_id = ids[i];
		int fd = (int)syscall(SYS_bpf, BPF_PROG_GET_FD_BY_ID, &g, sizeof(g));
		if (fd < 0)
			die_errno(1, "open device program %u", ids[i]);
		struct bpf_prog_info info;
		memset(&info, 0, sizeof(info));
		union bpf_attr o;
		memset(&o, 0, sizeof(o));
		o.info.bpf_fd = (__u32)fd;
		o.info.info_len = sizeof(info);
		o.info.info = (__u64)(uintptr_t)&info;
		if (syscall(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, &o, sizeof(o)) < 0)
			die_errno(1, "read device program %u", ids[i]);
		__u32 len = info.xlated_prog_len;
		unsigned char *insns = calloc(len ? len : 1, 1);
		memset(&info, 0, sizeof(info));
		info.xlated_prog_len = len;
		info.xlated_prog_insns = (__u64)(uintptr_t)insns;
		o.info.info_len = sizeof(info);
		if (!insns || syscall(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, &o, sizeof(o)) < 0)
			die_errno(1, "read device program %u", ids[i]);
		printf("program %u ", ids[i]);
		for (__u32 j = 0; j < len; j++)
			printf("%02x", insns[j]);
		printf("\n");
		free(insns);
		close(fd);
	}
	close(cg);
	exit(0);
}

const struct op ops_security[] = {
	{"devices-bpf", 2, op_devices_bpf, "CGROUPDIR PROGHEX: attach an eBPF device program to a cgroup2 directory"},
	{"tmpfs", 3, op_tmpfs, "PATH FLAGS DATA: mount a tmpfs (path created if missing)"},
	{"device", 7, op_device, "PATH TYPE MAJOR MINOR MODE UID GID: mknod a device node"},
	{"mkdir-p", 1, op_mkdir_p, "PATH: create it and its parents in the container"},
	{"rootfs-readonly", 0, op_rootfs_readonly, "remount the container's root read-only"},
	{"shm-size", 1, op_shm_size, "BYTES: remount /dev/shm with that size"},
	{"sysctl", 2, op_sysctl, "NAME VALUE: write /proc/sys/NAME (dots for slashes), a namespaced sysctl"},
	{"oom-score-adj", 1, op_oom_score_adj, "N: write /proc/self/oom_score_adj"},
	{"devices-dump", 1, op_devices_dump, "CGROUPDIR: print the device programs in effect there (translated), exit"},
	{"rlimit", 3, op_rlimit, "RESOURCE SOFT HARD: setrlimit (-1 unlimited)"},
	{NULL, 0, NULL, NULL},
};
