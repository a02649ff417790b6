/*
 * nsx-exec: shared declarations of the plan executor. The plan format and the op
 * table are documented at the top of exec.c; ops live in ops-*.c files by domain.
 */
#ifndef NSX_EXEC_H
#define NSX_EXEC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Exit codes, as nsenter, docker and the README define them. */
#define EXIT_NSX_FAILURE 125
#define EXIT_CANNOT_EXECUTE 126
#define EXIT_NOT_FOUND 127

#define NS_COUNT 8
#define MAX_CGROUP_FDS 32

/* Everything one op leaves for a later one: fds opened early, flags, the pinned target. */
struct exec_state {
	pid_t pid;              /* pinned target, 0 when none */
	int pidfd;              /* pidfd of the target, -1 when none */
	int ns_fd[NS_COUNT];    /* namespace fds from files (nsfd), -1 when from the pidfd */
	bool ns_done[NS_COUNT]; /* entered already (by setns-try) */
	char *ns_src[NS_COUNT]; /* what ns_fd came from, for error messages */
	int root_fd;            /* directory to chroot into (open-root) */
	int wd_fd;              /* directory to chdir into (open-wd) */
	int cgroup_fd[MAX_CGROUP_FDS];
	int cgroup_count;
	bool groups_try_failed; /* setgroups-try failed: a later setgroups must succeed */
	int sync_fd;            /* parent/child pipe for ops that need both sides (maps) */
	pid_t child;            /* pid of the forked child, in the parent */
	bool forked_child;      /* true in the child after fork */
};

struct op {
	const char *name;
	int nargs;              /* fixed arity; -1 takes the rest of argv (exec) */
	void (*run)(struct exec_state *st, char **args, int nargs);
	const char *summary;    /* one line, for `nsx-exec --ops` */
};

/* Error reporting: one line "PREFIX: message[: strerror]", then exit. */
extern const char *nsx_prefix;
/* The executor's own argv (a container's init overwrites it, so ps shows no plan). */
extern char **nsx_argv;
extern int nsx_argc;
void die(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
void die_errno(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
void warnx_nsx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parsing helpers shared by ops: a bad plan is nsx's own failure (125). */
long parse_long(const char *s, const char *what, long min, long max);
int ns_index(const char *name);        /* "mnt" -> index, or die */
const char *ns_name(int index);
int ns_clone_flag(int index);
int ns_flags_from_list(const char *list); /* "mnt,uts" -> CLONE_NEW* mask */

/* Where a namespace is taken from, for messages: "pid 1234" or the file path. */
const char *ns_source(struct exec_state *st, int index);

/* Flush stdio and fork; a failure is nsx's (125). In the child: st->forked_child set, returns 0;
 * in the parent: st->child set, returns the child's pid. */
pid_t fork_plan(struct exec_state *st);
/* The whole of PATH in a malloc'd buffer, after PREFIX bytes the caller fills; *len: PREFIX plus
 * what was read; buf[*len] is NUL and one more byte is spare. A failure is nsx's (125), naming PATH. */
char *read_whole_file(const char *path, size_t prefix, size_t *len);
/* pivot_root into the current directory, detach the old root, chdir / (ops-fs.c). */
void pivot_here(void);
/* Wait for the child and leave with its status: exit code, or the same signal. */
void wait_and_propagate(pid_t child) __attribute__((noreturn));
/* Leave with a wait status: the exit code, or die of the same signal (a shell then sees 128+N). */
void propagate_status(int status) __attribute__((noreturn));

/* Test hook: when the environment variable VAR names a FIFO, read one byte from it (exec.c). */
void test_hook_pause(const char *var);

/* Start time of a process (field 22 of /proc/PID/stat), 0 when gone (or a zombie, unless zombie_ok). */
unsigned long long proc_start_time(pid_t pid, bool zombie_ok);
void wait_process_gone(pid_t pid, unsigned long long start);

/* Permitted and effective capabilities to MASK, inheritable and ambient cleared (ops-payload.c). */
void set_capabilities(uint64_t mask, const char *who);

/* Run the container's exit hook, if the plan gave one (ops-network.c). */
void ctr_run_exit_hook(void);
/* ctr-net-hook (ops-network.c): a socketpair before the init's fork, each side's end after it. */
void ctr_net_hook_prepare(void);
void ctr_net_hook_child(void);
void ctr_net_hook_parent(pid_t init);

/* The op tables of each domain file, terminated by a {NULL} entry. */
extern const struct op ops_core[];
extern const struct op ops_ns[];
extern const struct op ops_fs[];
extern const struct op ops_cred[];
extern const struct op ops_unshare[];
extern const struct op ops_supervisor[]; /* ops-supervisor.c: a container's supervisor (nsx run, start) */
extern const struct op ops_rootfs[];    /* ops-rootfs.c: a container's root */
extern const struct op ops_tty[];       /* ops-tty.c: a container's terminal (-t) */
extern const struct op ops_payload[];   /* ops-payload.c: the payload's last steps */
extern const struct op ops_log[];       /* ctr-log.c: the container's json-file log */
extern const struct op ops_attach[];    /* ctr-attach.c: nsx attach's socket */
extern const struct op ops_exec[];      /* ops-exec.c: nsx exec */
extern const struct op ops_exec_tty[];  /* ops-exec-tty.c: nsx exec -t */
extern const struct op ops_seccomp[];   /* ops-seccomp.c: container seccomp filters */
extern const struct op ops_security[];  /* ops-security.c: devices, tmpfs, read-only root, rlimits */
extern const struct op ops_init[];      /* ops-init.c: the container's init (PID 1) and its restrictions */
extern const struct op ops_network[];   /* ops-network.c: a container's network teardown hook */
extern const struct op ops_debug[];     /* ops-debug.c: nsx debug */
extern const struct op ops_health[];    /* ctr-health.c: a container's healthcheck */

#endif
