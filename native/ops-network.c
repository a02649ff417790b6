/*
 * What a container's network needs from its supervisor (src/network/ makes the rest):
 *
 *   ctr-exit-hook 1 PATH  once the container has ended for good (after its last restart),
 *                         before its cgroups and directory are removed, run the executable
 *                         PATH (no argument, stdin and stdout on /dev/null, stderr kept) and
 *                         wait for it. nsx writes there the CNI DEL of the container's
 *                         attachments (veth, address lease, NAT and port rules) and the
 *                         removal of its network namespace, so a container that ends by
 *                         itself, or an --rm one in the foreground, leaves nothing behind.
 *                         The same file is what `nsx rm` and `nsx gc` run when the
 *                         supervisor was killed before it could (a second run is harmless:
 *                         CNI DEL is idempotent).
 *   ctr-exit-hook-bg 1 PATH
 *                         the same, but the supervisor does not wait for it: PATH runs in a
 *                         session of its own (a grandchild, reparented once the supervisor
 *                         exits), fds above 2 closed, stderr kept. A foreground `nsx run`
 *                         so returns the command's status without the CNI DEL in its path;
 *                         a caller that reads nsx's stderr through a pipe still sees the end
 *                         of the teardown (the pipe closes when it ends). The script holds a
 *                         lock on itself while it runs, so nsx rm, gc and the next start of
 *                         the same container wait for it; until it has run, its record in the
 *                         store says what to undo, so a SIGKILL leaves nothing nsx gc misses.
 *
 *   ctr-net-hook 1 PATH   (supervisor) once the init has its own network namespace (it says
 *                         so with ctr-net-ready), run the executable PATH with the init's
 *                         pid as its one argument (stdin on /dev/null, stdout and stderr
 *                         kept) and wait for it; the init goes on only if it exits 0. nsx
 *                         writes there the start of a rootless container's user-mode network
 *                         stack (pasta or slirp4netns, src/network/rootless.ts), which joins
 *                         the init's user and network namespaces by its pid, so the command
 *                         has its network before it runs. Run again for each --restart.
 *   ctr-net-ready 0       (init) after its network namespace is made: hand over to the hook
 *                         and wait; the hook failed: the init ends (EXIT_NSX_FAILURE).
 */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec.h"
#include "ops-container.h"

static char *exit_hook;
static bool exit_hook_bg;

static void op_exit_hook(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	exit_hook_bg = false;
	if (args[0][0] != '/')
		die(EXIT_NSX_FAILURE, "invalid plan: ctr-exit-hook %s: not an absolute path", args[0]);
	free(exit_hook);
	exit_hook = strdup(args[0]);
	if (!exit_hook)
		die(EXIT_NSX_FAILURE, "out of memory");
}

static void op_exit_hook_bg(struct exec_state *st, char **args, int nargs)
{
	op_exit_hook(st, args, nargs);
	exit_hook_bg = true;
}

/* In the hook's process: default signals, stdin and stdout on /dev/null, then the hook. */
static void exec_hook(void)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
	}
	execl(exit_hook, exit_hook, (char *)NULL);
	_exit(EXIT_CANNOT_EXECUTE);
}

/*
 * The supervisor may have unshared a pid namespace for the container, whose init may be gone:
 * new children could not be born there (ENOMEM). Its own pid namespace takes them. (A rootless
 * supervisor unshared none, and may not setns: nothing to do.)
 */
static void own_pid_namespace(const char *what, const char *path)
{
	struct stat mine, children;
	if (stat("/proc/self/ns/pid", &mine) == 0 && stat("/proc/self/ns/pid_for_children", &children) == 0 && mine.st_ino == children.st_ino)
		return;
	int own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (own < 0 || setns(own, CLONE_NEWPID) < 0)
		warnx_nsx("%s %s: back to our pid namespace: %s", what, path, strerror(errno));
	if (own >= 0)
		close(own);
}

void ctr_run_exit_hook(void)
{
	if (!exit_hook || access(exit_hook, X_OK) < 0)
		return;
	own_pid_namespace("exit hook", exit_hook);
	pid_t pid = fork();
	if (pid < 0) {
		warnx_nsx("exit hook %s: fork: %s", exit_hook, strerror(errno));
		return;
	}
	if (pid == 0) {
		if (exit_hook_bg) {
			/* Out of the terminal's session, and out of our children: a grandchild. Only
			 * stderr is kept: the terminal, the log and the starter's pipes are not held. */
			setsid();
			syscall(SYS_close_range, 3, ~0U, 0);
			pid_t grandchild = fork();
			if (grandchild != 0)
				_exit(grandchild < 0 ? EXIT_NSX_FAILURE : 0);
		}
		exec_hook();
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

static char *net_hook;
static int net_sock[2] = {-1, -1};

static void op_net_hook(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	if (args[0][0] != '/')
		die(EXIT_NSX_FAILURE, "invalid plan: ctr-net-hook %s: not an absolute path", args[0]);
	free(net_hook);
	net_hook = strdup(args[0]);
	if (!net_hook)
		die(EXIT_NSX_FAILURE, "out of memory");
}

void ctr_net_hook_prepare(void)
{
	if (net_hook && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, net_sock) < 0)
		die_errno(EXIT_NSX_FAILURE, "socketpair");
}

void ctr_net_hook_child(void)
{
	if (net_sock[0] >= 0) {
		close(net_sock[0]);
		net_sock[0] = -1;
	}
}

/* The supervisor's side: wait for the init's word, run the hook with its pid, answer o (go on) or e. */
void ctr_net_hook_parent(pid_t init)
{
	if (net_sock[0] < 0)
		return;
	close(net_sock[1]);
	net_sock[1] = -1;
	char c;
	if (read(net_sock[0], &c, 1) == 1) {
		char arg[16];
		snprintf(arg, sizeof(arg), "%d", (int)init);
		own_pid_namespace("network hook", net_hook);
		int status = -1;
		pid_t pid = fork();
		if (pid < 0)
			warnx_nsx("network hook %s: fork: %s", net_hook, strerror(errno));
		if (pid == 0) {
			sigset_t none;
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			for (int s = 1; s < NSIG; s++)
				signal(s, SIG_DFL);
			int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (null >= 0)
				dup2(null, 0);
			execl(net_hook, net_hook, arg, (char *)NULL);
			_exit(EXIT_CANNOT_EXECUTE);
		}
		while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		c = pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 'o' : 'e';
		if (write(net_sock[0], &c, 1) < 0) {
			/* the init is gone; supervise() sees it */
		}
	}
	close(net_sock[0]);
	net_sock[0] = -1;
}

static void op_net_ready(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	if (net_sock[1] < 0)
		die(EXIT_NSX_FAILURE, "invalid plan: ctr-net-ready without ctr-net-hook");
	char c = 'n';
	/* The hook opens /proc/PID/ns/{user,net} as the user who started the container: the init
	 * is dumpable while it waits (nothing of the container runs yet), as before the fork. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	bool said = write(net_sock[1], &c, 1) == 1 && read(net_sock[1], &c, 1) == 1;
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (!said || c != 'o') {
		/* A detached starter waits on the ready fd: a byte says the start failed, and how. */
		unsigned char code = EXIT_NSX_FAILURE;
		if (ctr.ready_fd >= 0 && write(ctr.ready_fd, &code, 1) < 0) {
			/* the starter is gone */
		}
		if (!said)
			die(EXIT_NSX_FAILURE, "the container's network could not be set up: its supervisor is gone");
		/* The hook has said why on the supervisor's stderr: its line is the one the starter reports. */
		_exit(EXIT_NSX_FAILURE);
	}
	close(net_sock[1]);
	net_sock[1] = -1;
}

const struct op ops_network[] = {
	{"ctr-exit-hook", 1, op_exit_hook, "PATH: run this executable once the container has ended (its network's teardown)"},
	{"ctr-exit-hook-bg", 1, op_exit_hook_bg, "PATH: the same, without waiting for it (a foreground run: its status is not held up)"},
	{"ctr-net-hook", 1, op_net_hook, "PATH: run this executable with the init's pid once it has its network namespace (a rootless network stack)"},
	{"ctr-net-ready", 0, op_net_ready, "the init has its network namespace: the supervisor runs ctr-net-hook, the init waits for it"},
	{NULL, 0, NULL, NULL},
};
