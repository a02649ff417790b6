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
 */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec.h"

static char *exit_hook;

static void op_exit_hook(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	if (args[0][0] != '/')
		die(EXIT_NSX_FAILURE, "invalid plan: ctr-exit-hook %s: not an absolute path", args[0]);
	free(exit_hook);
	exit_hook = strdup(args[0]);
	if (!exit_hook)
		die(EXIT_NSX_FAILURE, "out of memory");
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
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

const struct op ops_network[] = {
	{"ctr-exit-hook", 1, op_exit_hook, "PATH: run this executable once the container has ended (its network's teardown)"},
	{NULL, 0, NULL, NULL},
};
