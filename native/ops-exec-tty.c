/*
 * nsx exec -t: the new process gets a pseudo-terminal of the container's own devpts, as
 * docker exec -t gives it (plan: src/plan/exec.ts).
 *
 *   exec-pty 1 stdin|nostdin
 *        in the container's mount namespace (after setns mnt), open its /dev/ptmx and the
 *        slave through the master (TIOCGPTPEER: no path to resolve in the container's
 *        tree), then fork. The child makes a new session with the slave as controlling
 *        terminal and stdin, stdout and stderr, and goes on with the plan. The parent
 *        stays outside the container's cgroups: it copies the caller's window size (and
 *        again on SIGWINCH), puts the caller's terminal in raw mode with -i (restored
 *        before it leaves), relays the output and, with stdin, the input, forwards HUP
 *        INT QUIT TERM USR1 USR2 to the child, and leaves with the child's status.
 *
 *   exec-pty-size 1 FD
 *        (before exec-pty) the window size comes from FD instead of the caller's terminal:
 *        4-byte records, rows then columns, each big-endian 16 bits, each applied to the
 *        pty as it comes (the Engine API's exec resize: the service has no terminal).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec.h"
#include "term.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* exec-pty-size's descriptor, -1 when the size is the caller's terminal's. */
static int size_fd = -1;

/* Apply the window-size records read from size_fd; false at its end. */
static bool read_sizes(int master)
{
	static unsigned char rec[4];
	static size_t have;
	unsigned char buf[64];
	ssize_t r = read(size_fd, buf, sizeof(buf));
	if (r < 0 && errno == EINTR)
		return true;
	if (r <= 0)
		return false;
	for (ssize_t i = 0; i < r; i++) {
		rec[have++] = buf[i];
		if (have < sizeof(rec))
			continue;
		have = 0;
		struct winsize ws = {.ws_row = (unsigned short)(rec[0] << 8 | rec[1]), .ws_col = (unsigned short)(rec[2] << 8 | rec[3])};
		if (master >= 0)
			ioctl(master, TIOCSWINSZ, &ws); /* the kernel sends SIGWINCH to the terminal's foreground group */
	}
	return true;
}

/* Relay between the caller's stdio and the master until the child ended and its output is drained. */
static int relay(pid_t child, int master, int sfd, bool with_stdin)
{
	int status = 0;
	bool exited = false, in_open = with_stdin, out_ok = true;
	char buf[16384];
	while (master >= 0 || !exited) {
		struct pollfd p[4] = {{exited ? -1 : sfd, POLLIN, 0}, {master, POLLIN, 0}, {in_open && !exited ? 0 : -1, POLLIN, 0}, {exited ? -1 : size_fd, POLLIN, 0}};
		/* Once the child has ended, what it wrote is drained; a process it left holding the slave does not keep us. */
		int n = poll(p, 4, exited ? 200 : -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (n == 0)
			break;
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				int sig = (int)si.ssi_signo;
				if (sig == SIGWINCH)
					term_copy_size(master);
				else if (sig != SIGCHLD)
					kill(child, sig);
			}
			if (waitpid(child, &status, WNOHANG) == child)
				exited = true;
		}
		if (master >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t r = read(master, buf, sizeof(buf));
			if (r > 0) {
				if (out_ok && !write_all(1, buf, (size_t)r))
					out_ok = false; /* the reader went away: keep draining, so the command is not blocked */
			} else if (!(r < 0 && errno == EINTR)) {
				close(master); /* EIO: no slave is open any more */
				master = -1;
			}
		}
		/* A size before the input that came with it: a resize answered before the client typed is in force when its keys arrive. */
		if (size_fd >= 0 && (p[3].revents & (POLLIN | POLLHUP | POLLERR)) && !read_sizes(master)) {
			close(size_fd);
			size_fd = -1;
		}
		if (in_open && (p[2].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t r = read(0, buf, sizeof(buf));
			if (r > 0) {
				if (master >= 0)
					write_all(master, buf, (size_t)r);
			} else if (r == 0 || errno != EINTR) {
				in_open = false;
				/* End of input: the terminal's EOF character, as a user's ^D would send. */
				if (master >= 0)
					term_send_eof(master);
			}
		}
		if (!exited && master < 0) {
			while (waitpid(child, &status, 0) < 0 && errno == EINTR)
				;
			exited = true;
		}
	}
	if (!exited)
		while (waitpid(child, &status, 0) < 0 && errno == EINTR)
			;
	if (master >= 0)
		close(master);
	return status;
}

static void op_exec_pty(struct exec_state *st, char **args, int nargs)
{
	(void)nargs;
	bool with_stdin = strcmp(args[0], "stdin") == 0;
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		die_errno(EXIT_NSX_FAILURE, "open /dev/ptmx in the container");
	/* The container's /dev is its own: it must be the pty multiplexer, not a file it planted. */
	struct stat sb;
	if (fstat(master, &sb) < 0 || !S_ISCHR(sb.st_mode) || major(sb.st_rdev) != 5 || minor(sb.st_rdev) != 2)
		die(EXIT_NSX_FAILURE, "the container's /dev/ptmx is not the pseudo-terminal multiplexer");
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		die_errno(EXIT_NSX_FAILURE, "unlock the pseudo-terminal");
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		die_errno(EXIT_NSX_FAILURE, "open the pseudo-terminal's slave");
	term_copy_size(master);

	sigset_t set, old;
	sigemptyset(&set);
	int sigs[] = {SIGCHLD, SIGWINCH, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&set, sigs[i]);
	signal(SIGCHLD, SIG_DFL);
	sigprocmask(SIG_BLOCK, &set, &old);
	pid_t child = fork_plan(st);
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(master);
		if (size_fd >= 0)
			close(size_fd);
		if (setsid() < 0)
			die_errno(EXIT_NSX_FAILURE, "setsid");
		if (ioctl(slave, TIOCSCTTY, 0) < 0)
			die_errno(EXIT_NSX_FAILURE, "make the pseudo-terminal the controlling terminal");
		/* stderr last, so a failure until then is still said on the caller's. */
		for (int i = 0; i < 3; i++)
			if (dup2(slave, i) < 0)
				die_errno(EXIT_NSX_FAILURE, "dup2");
		close(slave);
		return;
	}
	close(slave);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0) {
		kill(child, SIGKILL);
		die_errno(EXIT_NSX_FAILURE, "signalfd");
	}
	/* Raw mode with -i: every key, ^C and ^Z included, goes to the container's terminal. */
	if (with_stdin)
		term_raw();
	int status = relay(child, master, sfd, with_stdin);
	term_restore();
	propagate_status(status);
}

static void op_exec_pty_size(struct exec_state *st, char **args, int nargs)
{
	(void)st;
	(void)nargs;
	char *end;
	long fd = strtol(args[0], &end, 10);
	if (*end != '\0' || fd < 3 || fd > 1023 || fcntl((int)fd, F_GETFD) < 0)
		die(EXIT_NSX_FAILURE, "exec-pty-size: %s is not an open descriptor above 2", args[0]);
	size_fd = (int)fd;
}

const struct op ops_exec_tty[] = {
	{"exec-pty-size", 1, op_exec_pty_size, "FD: exec-pty takes the window size from FD (4-byte records: rows, columns, big-endian) instead of the caller's terminal"},
	{"exec-pty", 1, op_exec_pty, "stdin|nostdin: fork with a pty of the container's devpts; the parent relays it (and stdin) and passes on the status"},
	{NULL, 0, NULL, NULL},
};
