/*
 * A container's ops (`nsx run`, `nsx create`/`start`), by domain:
 *   ops-supervisor.c  the supervisor that stays in the host: user-namespace maps, idmapped
 *                     layers, cleanup, the exit record, --restart, forking the init;
 *   ctr-relay.c       the supervisor's loop while the container runs: signals passed on,
 *                     the terminal relayed, output to the log and attached clients;
 *   ops-rootfs.c      the container's root (overlayfs, bind mounts, /proc, /sys, /dev,
 *                     pivot_root, masked and read-only paths);
 *   ops-tty.c         the container's pseudo-terminal (-t);
 *   ops-init.c        the container's PID 1 (reaper and signal forwarder) and its restrictions;
 *   ops-payload.c     the last steps of the payload (capabilities, no_new_privs, closing
 *                     inherited fds, the exec).
 * They share the state below (defined in ops-container.c), set by early ops for later ones.
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
#ifndef NSX_OPS_CONTAINER_H
#define NSX_OPS_CONTAINER_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

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

/* What a container's ops leave for later ones, in the supervisor and in the init. */
struct ctr_state {
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
	bool pid_shared; /* ctr-pid-ns: the init joins the host's pid namespace or another container's */
	int pid_fd;      /* ctr-pid-ns PATH: that other container's pid namespace (-1: the host's) */
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
	char *container_dir; /* the stop marker's directory: gone means the container was removed under us */
	unsigned restarts;
	int in_wr;       /* attachable without a terminal: the supervisor's end of the container's stdin */
	bool tty_stdin;     /* -i with -t: the supervisor relays its stdin to the terminal */
};
extern struct ctr_state ctr;

/* The signals the supervisor and the init pass on to the command, and SIGCHLD. */
void forwarded_set(sigset_t *set);
/* strdup or die (125). */
char *xstrdup(const char *s);
/* FILE of the container's cgroup number I (a cleanup cgroup) into BUF, NUL-terminated: its length, -1 when unreadable. */
ssize_t ctr_cgroup_read(int i, const char *file, char *buf, size_t size);
/* CLOCK_MONOTONIC in ms. */
long long now_ms(void);
/* ctr-relay.c: forward signals, relay the terminal and output, wait for the init; returns
 * the command's wait status. */
int supervise(pid_t child, int status_rd);
/* ctr-relay.c: the exit record ("CODE MS restarts=N [oom]") of a kept container. */
void ctr_write_exit(int status);

#endif
