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
 */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec.h"

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

void ctr_run_exit_hook(void)
{
	if (!exit_hook || access(exit_hook, X_OK) < 0)
		return;
	/* The supervisor unshared a pid namespace for the container, whose init is gone: new
	 * children could not be born there (ENOMEM). Its own pid namespace takes them. */
	int own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (own >= 0) {
		if (setns(own, CLONE_NEWPID) < 0)
			warnx_nsx("exit hook %s: back to our pid namespace: %s", exit_hook, strerror(errno));
		close(own);
	}
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

const struct op ops_network[] = {
	{"ctr-exit-hook", 1, op_exit_hook, "PATH: run this executable once the container has ended (its network's teardown)"},
	{"ctr-exit-hook-bg", 1, op_exit_hook_bg, "PATH: the same, without waiting for it (a foreground run: its status is not held up)"},
	{NULL, 0, NULL, NULL},
};
