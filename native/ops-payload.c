/*
 * The payload's last steps, after the init forked it: stdin, working directory, the
 * bounding and effective capabilities, supplementary groups, no_new_privs, closing
 * inherited fds, the readiness fd of a detached start, and the exec.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "exec.h"
#include "ops-container.h"

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

const struct op ops_payload[] = {
	{"ctr-ready-fd", 1, op_ready_fd, "FD: kept open until the command is exec'd (detached start)"},
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
