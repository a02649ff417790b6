/*
 * The container's init (nsx-init, PID 1), as tini and docker-init run it.
 *
 *   ctr-init                 fork the command; stay as PID 1: reap every zombie, forward
 *                            signals to the command, report its wait status to the
 *                            supervisor when it ends, and exit.
 *
 * It runs with the container's own restrictions, not the host privileges of the executor
 * it was forked from, and with a short command line and the container's environment in
 * /proc/1.
 *
 *   ctr-init-title ENVFILE   the init's /proc/PID/cmdline is "nsx-init" and its
 *                            /proc/PID/environ ENVFILE's entries (PR_SET_MM_MAP); where
 *                            the kernel refuses, the init blanks its argv instead.
 *   ctr-init-creds CAPS UID GID GROUPS SECCOMP
 *                            after ctr-init forks the command, the init drops to the same
 *                            bounding, effective, permitted (inheritable and ambient
 *                            empty) capabilities, groups ("-": leave them, a rootless user
 *                            namespace denies setgroups), gid, uid and no_new_privs as the
 *                            command, and with SECCOMP "seccomp" loads the same filter
 *                            (the one the plan's seccomp op compiled). It needs none of
 *                            it: it only waits, reaps and forwards signals to its child.
 *   ctr-term-grace SECONDS   foreground runs: a SIGTERM to the supervisor is passed on and
 *                            SIGKILLs the init SECONDS later if the container is still
 *                            there (nsx stop's rule), so timeout(1) and service managers
 *                            can end a container whose command ignores SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/prctl.h>

#include "exec.h"
#include "ops-container.h"
#include "ops-init.h"

static struct {
	/* ctr-init-title */
	char *title;          /* "nsx-init\0" then the environment, NUL-separated */
	size_t title_len, env_off;
	/* ctr-init-creds */
	bool creds;
	uint64_t caps;
	long uid, gid;
	char groups[1024];    /* comma-separated, or "-" */
	bool seccomp;         /* load the filter the seccomp op compiled */
	/* ctr-term-grace */
	long grace_ms;
} init = {.grace_ms = -1};

static const char TITLE[] = "nsx-init";

static void op_init_title(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	size_t len;
	char *buf = read_whole_file(args[0], sizeof(TITLE), &len);
	memcpy(buf, TITLE, sizeof(TITLE));
	/* environ is NUL-terminated entries; an empty one is a single NUL-less range */
	if (len > sizeof(TITLE) && buf[len - 1] != '\0')
		buf[len++] = '\0';
	init.title = buf;
	init.title_len = len;
	init.env_off = sizeof(TITLE);
}

/* From /proc/self/stat: the fields of a prctl_mm_map that stay as they are. */
static bool read_mm_map(struct prctl_mm_map *m)
{
	char buf[4096];
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (!p)
		return false;
	unsigned long long f[53] = {0};
	int field = 2; /* after ") " comes field 3 */
	for (char *save = NULL, *t = strtok_r(p + 1, " ", &save); t && field < 52; t = strtok_r(NULL, " ", &save))
		f[++field] = strtoull(t, NULL, 10);
	if (field < 51)
		return false;
	memset(m, 0, sizeof(*m));
	m->start_code = f[26], m->end_code = f[27], m->start_stack = f[28];
	m->start_data = f[45], m->end_data = f[46], m->start_brk = f[47];
	m->arg_start = f[48], m->arg_end = f[49], m->env_start = f[50], m->env_end = f[51];
	m->brk = (uint64_t)(uintptr_t)sbrk(0);
	m->exe_fd = (uint32_t)-1;
	return true;
}

/*
 * In the init: /proc/PID/cmdline and environ are read from the ranges the mm map names;
 * PR_SET_MM_MAP points them at the title buffer (it needs no CAP_SYS_RESOURCE, which
 * this machine's root lacks, and works in a user namespace), then nsx's own argv and
 * environment strings are wiped from the init's memory. False when the kernel refused.
 */
static bool init_retitle(void)
{
	if (!init.title)
		return false;
	struct prctl_mm_map m;
	if (!read_mm_map(&m))
		return false;
	uint64_t old_args[2] = {m.arg_start, m.arg_end}, old_env[2] = {m.env_start, m.env_end};
	uint64_t b = (uint64_t)(uintptr_t)init.title;
	m.arg_start = b, m.arg_end = b + sizeof(TITLE);
	m.env_start = b + init.env_off, m.env_end = b + init.title_len;
	if (prctl(PR_SET_MM, PR_SET_MM_MAP, (unsigned long)&m, sizeof(m), 0) < 0)
		return false;
	if (old_args[1] > old_args[0])
		memset((void *)(uintptr_t)old_args[0], 0, old_args[1] - old_args[0]);
	if (old_env[1] > old_env[0])
		memset((void *)(uintptr_t)old_env[0], 0, old_env[1] - old_env[0]);
	return true;
}

static void op_init_creds(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(args[0], &end, 16);
	if (errno || end == args[0] || *end)
		die(EXIT_NSX_FAILURE, "invalid plan: bad capability mask '%s'", args[0]);
	init.caps = (uint64_t)v;
	init.uid = parse_long(args[1], "uid", 0, 4294967294L);
	init.gid = parse_long(args[2], "gid", 0, 4294967294L);
	if (snprintf(init.groups, sizeof(init.groups), "%s", args[3]) >= (int)sizeof(init.groups))
		die(EXIT_NSX_FAILURE, "too many supplementary groups");
	if (strcmp(args[4], "seccomp") != 0 && strcmp(args[4], "-") != 0)
		die(EXIT_NSX_FAILURE, "invalid plan: ctr-init-creds takes seccomp or -, not '%s'", args[4]);
	init.seccomp = strcmp(args[4], "seccomp") == 0;
	init.creds = true;
}

static void init_drop_privileges(void)
{
	if (!init.creds)
		return;
	for (int cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0)
			break;
		if (!(init.caps & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			die_errno(EXIT_NSX_FAILURE, "init: drop capability %d from the bounding set", cap);
	}
	if (strcmp(init.groups, "-") != 0) {
		gid_t list[64];
		size_t n = 0;
		char buf[sizeof(init.groups)];
		snprintf(buf, sizeof(buf), "%s", init.groups);
		for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			if (n >= sizeof(list) / sizeof(list[0]))
				die(EXIT_NSX_FAILURE, "too many supplementary groups");
			list[n++] = (gid_t)parse_long(t, "gid", 0, 4294967294L);
		}
		if (setgroups(n, list) < 0)
			die_errno(EXIT_NSX_FAILURE, "init: setgroups");
	}
	if (setresgid((gid_t)init.gid, (gid_t)init.gid, (gid_t)init.gid) < 0 || setresuid((uid_t)init.uid, (uid_t)init.uid, (uid_t)init.uid) < 0)
		die_errno(EXIT_NSX_FAILURE, "init: become uid %ld gid %ld", init.uid, init.gid);
	set_capabilities(init.caps, "init: ");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die_errno(EXIT_NSX_FAILURE, "init: set no_new_privs");
	/* A change of uid resets it to the sysctl's value: the container must not ptrace its init. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (init.seccomp) {
		/* the command's own filter (ops-seccomp.c), loaded as its seccomp-load op does */
		for (const struct op *o = ops_seccomp; o->name; o++)
			if (strcmp(o->name, "seccomp-load") == 0)
				o->run(NULL, NULL, 0);
	}
}

static void op_term_grace(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	init.grace_ms = parse_long(args[0], "grace seconds", 0, 86400) * 1000;
}

long init_term_grace_ms(void)
{
	return init.grace_ms;
}

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

const struct op ops_init[] = {
	{"ctr-init", 0, op_init, "fork the command; stay as PID 1: reap, forward signals, report its status"},
	{"ctr-init-title", 1, op_init_title, "ENVFILE: the init's /proc cmdline is nsx-init, its environ ENVFILE's entries (before ctr-supervise)"},
	{"ctr-init-creds", 5, op_init_creds, "HEXCAPS UID GID GROUPS|- seccomp|-: the init drops to the command's capabilities, ids, no_new_privs and seccomp filter"},
	{"ctr-term-grace", 1, op_term_grace, "SECONDS: a SIGTERM to the supervisor SIGKILLs the init this long after (foreground runs)"},
	{NULL, 0, NULL, NULL},
};
