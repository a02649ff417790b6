/*
 * Credential and process-environment ops: groups, gid, uid, ambient capabilities,
 * cgroup membership, environment variables.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "exec.h"

static void op_setgroups_try(struct exec_state *st, char **args, int nargs)
{
	(void)args, (void)nargs;
	if (setgroups(0, NULL) < 0)
		st->groups_try_failed = true;
}

/* nsenter drops groups before and after entering a user namespace and complains only if both fail. */
static void op_setgroups(struct exec_state *st, char **args, int nargs)
{
	(void)args, (void)nargs;
	if (setgroups(0, NULL) < 0 && st->groups_try_failed)
		die_errno(EXIT_NSX_FAILURE, "setgroups");
}

static void op_setgid(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	gid_t gid = (gid_t)parse_long(args[0], "gid", 0, 4294967294L);
	if (setgid(gid) < 0)
		die_errno(EXIT_NSX_FAILURE, "setgid(%u)", (unsigned)gid);
}

static void op_setuid(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	uid_t uid = (uid_t)parse_long(args[0], "uid", 0, 4294967294L);
	if (setuid(uid) < 0)
		die_errno(EXIT_NSX_FAILURE, "setuid(%u)", (unsigned)uid);
}

/* --keep-caps: capabilities survive execve of a non-root command only as ambient ones. */
static void op_keep_caps(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	if (syscall(SYS_capget, &hdr, data) < 0)
		die_errno(EXIT_NSX_FAILURE, "capget");
	data[0].inheritable = data[0].permitted;
	data[1].inheritable = data[1].permitted;
	if (syscall(SYS_capset, &hdr, data) < 0)
		die_errno(EXIT_NSX_FAILURE, "capset");
	for (int cap = 0; cap < 64; cap++) {
		unsigned int word = data[cap / 32].permitted;
		if (!(word & (1u << (cap % 32))))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0 && errno != EINVAL)
			die_errno(EXIT_NSX_FAILURE, "raise ambient capability %d", cap);
	}
}

static void op_cgroup_open(struct exec_state *st, char **args, int nargs)
{
	(void)nargs;
	if (st->cgroup_count >= MAX_CGROUP_FDS)
		die(EXIT_NSX_FAILURE, "invalid plan: too many cgroup-open");
	int fd = open(args[0], O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die_errno(EXIT_NSX_FAILURE, "open %s", args[0]);
	st->cgroup_fd[st->cgroup_count++] = fd;
}

static void op_cgroup_join(struct exec_state *st, char **args, int nargs)
{
	(void)args, (void)nargs;
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%d", (int)getpid());
	for (int i = 0; i < st->cgroup_count; i++) {
		if (write(st->cgroup_fd[i], buf, (size_t)len) != len)
			die_errno(EXIT_NSX_FAILURE, "join the target's cgroup (write cgroup.procs)");
		close(st->cgroup_fd[i]);
	}
	st->cgroup_count = 0;
}

/* The target's environment (/proc/PID/environ): NUL-separated NAME=VALUE entries. */
static void op_env_from(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	size_t len;
	char *buf = read_whole_file(args[0], 0, &len);
	clearenv();
	/* buf stays allocated: putenv keeps pointers into it until exec. */
	for (size_t off = 0; off < len;) {
		char *entry = buf + off;
		size_t l = strlen(entry);
		if (l > 0 && strchr(entry, '=') && putenv(entry) != 0)
			die_errno(EXIT_NSX_FAILURE, "putenv");
		off += l + 1;
	}
}

static void op_setenv(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	if (setenv(args[0], args[1], 1) < 0)
		die_errno(EXIT_NSX_FAILURE, "setenv %s", args[0]);
}

static void op_unsetenv(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	if (unsetenv(args[0]) < 0)
		die_errno(EXIT_NSX_FAILURE, "unsetenv %s", args[0]);
}

const struct op ops_cred[] = {
	{"setgroups-try", 0, op_setgroups_try, "drop supplementary groups, a failure remembered"},
	{"setgroups", 0, op_setgroups, "drop supplementary groups; fatal if setgroups-try failed too"},
	{"setgid", 1, op_setgid, "GID"},
	{"setuid", 1, op_setuid, "UID"},
	{"keep-caps", 0, op_keep_caps, "permitted capabilities to inheritable and ambient"},
	{"cgroup-open", 1, op_cgroup_open, "PATH: open a cgroup.procs file now"},
	{"cgroup-join", 0, op_cgroup_join, "write our pid to the opened cgroup.procs files"},
	{"env-from", 1, op_env_from, "PATH: replace the environment by a NUL-separated environ file"},
	{"setenv", 2, op_setenv, "NAME VALUE"},
	{"unsetenv", 1, op_unsetenv, "NAME"},
	{NULL, 0, NULL, NULL},
};
