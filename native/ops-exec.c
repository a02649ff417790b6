/*
 * nsx exec's ops: a new process in a running container (plan: src/plan/exec.ts).
 *
 *   env-clear 0        empty the environment; setenv ops then give the container's
 *   exec-detach 0      exec -d: fork; the child goes on in a new session with stdio on
 *                      /dev/null; the parent waits on a close-on-exec pipe and exits 0
 *                      once the child exec'd, or with the 126 it reports
 *   exec-run -1 ARGV   close every fd above 2 (the report pipe excepted, close-on-exec),
 *                      then execvp: 126 when it fails, not found too (docker exec's code)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec.h"

/* exec-detach's report pipe (write end, in the child), -1 when not detached. */
static int report_fd = -1;
/* What a detached child's early failure reports: nsx's own (125) unless the op says otherwise. */
static unsigned char early_code = EXIT_NSX_FAILURE;

static void op_env_clear(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	if (clearenv() != 0)
		die(EXIT_NSX_FAILURE, "clearenv failed");
}

/* A detached child that fails before its command runs tells the parent so (die() exits through here). */
static void report_early_failure(void)
{
	if (report_fd < 0)
		return;
	unsigned char c = early_code;
	if (write(report_fd, &c, 1) < 0) {
		/* the parent is gone */
	}
}

static void op_exec_detach(struct exec_state *st, char **args, int nargs)
{
	(void)args, (void)nargs;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		die_errno(EXIT_NSX_FAILURE, "pipe");
	fflush(NULL);
	pid_t child = fork();
	if (child < 0)
		die_errno(EXIT_NSX_FAILURE, "fork");
	if (child == 0) {
		close(p[0]);
		report_fd = p[1];
		st->forked_child = true;
		atexit(report_early_failure);
		setsid();
		/* stderr stays the caller's until exec-run, so a failure is still said where it is seen. */
		int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fd < 0)
			die_errno(EXIT_NSX_FAILURE, "open /dev/null");
		for (int i = 0; i < 2; i++)
			if (dup2(fd, i) < 0)
				die_errno(EXIT_NSX_FAILURE, "dup2 /dev/null");
		close(fd);
		return;
	}
	close(p[1]);
	unsigned char code = 0;
	ssize_t n;
	do
		n = read(p[0], &code, 1);
	while (n < 0 && errno == EINTR);
	/* A byte: the child failed and said why on stderr. EOF: the exec closed the pipe. */
	exit(n == 1 ? code : 0);
}

/* docker exec -w: a working directory that cannot be entered is the command's failure to start (126), as runc's. */
static void op_exec_chdir(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	if (chdir(args[0]) < 0) {
		int err = errno;
		early_code = EXIT_CANNOT_EXECUTE;
		die(EXIT_CANNOT_EXECUTE, "chdir to cwd (\"%s\") failed: %s", args[0], strerror(err));
	}
}

static void op_exec_run(struct exec_state *st, char **args, int nargs)
{
	(void)st;
	if (nargs < 1)
		die(EXIT_NSX_FAILURE, "invalid plan: exec-run needs a command");
	/* Nothing of nsx reaches the command (CVE-2024-21626: a leaked fd is a way out). */
	if (report_fd >= 3) {
		if (report_fd > 3)
			syscall(SYS_close_range, 3, report_fd - 1, 0);
		syscall(SYS_close_range, report_fd + 1, ~0U, 0);
	} else if (syscall(SYS_close_range, 3, ~0U, 0) < 0) {
		die_errno(EXIT_NSX_FAILURE, "close_range");
	}
	unsetenv("NSX_TEST_PAUSE_BEFORE_PIN");
	unsetenv("NSX_TEST_PAUSE_AFTER_FORK");
	int saved_stderr = -1;
	if (report_fd >= 0) {
		saved_stderr = fcntl(2, F_DUPFD_CLOEXEC, 3);
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (saved_stderr < 0 || null < 0 || dup2(null, 2) < 0)
			die_errno(EXIT_NSX_FAILURE, "stderr to /dev/null");
		close(null);
	}
	execvp(args[0], args);
	int err = errno;
	/* docker exec's rule (moby's ContainerExecStart): a process that could not be started is 126,
	 * found or not (docker run's is 127 for a command not found; that is the exec op's). */
	int code = EXIT_CANNOT_EXECUTE;
	if (saved_stderr >= 0)
		dup2(saved_stderr, 2);
	if (report_fd >= 0) {
		unsigned char c = (unsigned char)code;
		if (write(report_fd, &c, 1) < 0) {
			/* the parent is gone */
		}
		report_fd = -1;
	}
	errno = err;
	die_errno(code, "failed to execute %s", args[0]);
}

const struct op ops_exec[] = {
	{"env-clear", 0, op_env_clear, "empty the environment"},
	{"exec-chdir", 1, op_exec_chdir, "PATH: chdir to exec's working directory; a failure is 126, the command's (docker exec -w)"},
	{"exec-detach", 0, op_exec_detach, "fork; the child goes on detached, the parent exits once it exec'd (or 126)"},
	{"exec-run", -1, op_exec_run, "ARGV...: close fds above 2, execvp (126 when it fails, as docker exec), reported to exec-detach's parent"},
	{NULL, 0, NULL, NULL},
};
