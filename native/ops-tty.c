/*
 * A container's terminal (-t): a pty of the container's own devpts, its master sent to the
 * supervisor (which relays it, ctr-relay.c), its slave the command's controlling terminal.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exec.h"
#include "ops-container.h"

static void op_tty(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	ctr.tty = true;
	ctr.tty_stdin = strcmp(args[0], "stdin") == 0;
}

/* A pty of the container's own devpts (so `tty` names /dev/pts/0 inside); its master goes to the supervisor. */
static void op_pty(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	if (ctr.pty_sock[1] < 0)
		die(EXIT_NSX_FAILURE, "invalid plan: ctr-pty without ctr-tty before ctr-supervise");
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		die_errno(EXIT_NSX_FAILURE, "open /dev/ptmx in the container");
	int unlock = 0, n;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &n) < 0)
		die_errno(EXIT_NSX_FAILURE, "set up the pseudo-terminal");
	snprintf(ctr.pty_slave, sizeof(ctr.pty_slave), "/dev/pts/%d", n);
	char byte = 0;
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(cbuf, 0, sizeof(cbuf));
	struct iovec iov = {&byte, 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &master, sizeof(int));
	if (sendmsg(ctr.pty_sock[1], &msg, 0) < 0)
		die_errno(EXIT_NSX_FAILURE, "send the terminal to the supervisor");
	close(master);
	close(ctr.pty_sock[1]);
	ctr.pty_sock[1] = -1;
}

/* The command's session, controlling terminal and stdio: the container's pty. */
static void op_pty_attach(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	if (!ctr.pty_slave[0])
		die(EXIT_NSX_FAILURE, "invalid plan: ctr-pty-attach without ctr-pty");
	if (setsid() < 0)
		die_errno(EXIT_NSX_FAILURE, "setsid");
	int fd = open(ctr.pty_slave, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die_errno(EXIT_NSX_FAILURE, "open %s", ctr.pty_slave);
	if (ioctl(fd, TIOCSCTTY, 0) < 0)
		die_errno(EXIT_NSX_FAILURE, "make %s the controlling terminal", ctr.pty_slave);
	for (int i = 0; i < 3; i++)
		if (dup2(fd, i) < 0)
			die_errno(EXIT_NSX_FAILURE, "dup2");
	close(fd);
}

const struct op ops_tty[] = {
	{"ctr-tty", 1, op_tty, "stdin|nostdin: -t, the supervisor relays a pseudo-terminal the init creates (and its stdin with -i)"},
	{"ctr-pty", 0, op_pty, "open a pty of the container's devpts; its master goes to the supervisor"},
	{"ctr-pty-attach", 0, op_pty_attach, "setsid, the pty as controlling terminal and stdin/stdout/stderr"},
	{NULL, 0, NULL, NULL},
};
