/*
 * `nsx attach`: the supervisor of a detached container listens on a unix socket in the
 * container's directory. A client gets the container's output; with a terminal (-t) what it
 * sends goes to the terminal, and it can set the terminal's size. Detaching (ctrl-p ctrl-q) is
 * the client's business: it just closes the socket, and the container goes on.
 *
 * Frames both ways: a type byte, a 2-byte big-endian length, the bytes.
 *   client -> supervisor: 'i' input for the terminal; 'w' 4 bytes, rows and columns (big-endian u16);
 *                         'c' (empty) end of input: the container's stdin closed, or with a
 *                         terminal its EOF character (docker's StdinOnce: nsx start -ai)
 *   supervisor -> client: 'o' stdout, 'e' stderr
 * A client that cannot keep up (its socket full) loses output rather than stall the container.
 *
 * `nsx start -a` is attached before the container starts, as docker's attach-then-start: its
 * end of a socket pair is handed to the supervisor (ctr-attach-client FD) and is its first
 * client from the fork on, so none of the command's output is said before it listens.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "ctr-attach.h"
#include "exec.h"
#include "ops-container.h"
#include "term.h"

#define FRAME_MAX 65535

static struct {
	char *dir;  /* the container's directory: the socket is "attach.sock" in it */
	int listen_fd;
	int first_fd; /* ctr-attach-client: a client from the start, -1 for none */
	struct client {
		int fd;
		unsigned char buf[3 + FRAME_MAX];
		size_t len;
	} clients[ATTACH_MAX_CLIENTS];
} at = {.listen_fd = -1, .first_fd = -1};

bool ctr_attach_enabled(void)
{
	return at.dir != NULL;
}

static void op_attach_socket(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	at.dir = strdup(args[0]);
	if (!at.dir)
		die(EXIT_NSX_FAILURE, "out of memory");
	for (int i = 0; i < ATTACH_MAX_CLIENTS; i++)
		at.clients[i].fd = -1;
}

/* Relative to the container's directory: a unix socket path is limited to 108 bytes. */
static int in_dir(void)
{
	int cwd = open(".", O_PATH | O_CLOEXEC);
	if (chdir(at.dir) < 0) {
		if (cwd >= 0)
			close(cwd);
		return -1;
	}
	return cwd;
}

static void back(int cwd)
{
	if (cwd >= 0) {
		if (fchdir(cwd) < 0) {
			/* stays in the container's directory: harmless for the supervisor */
		}
		close(cwd);
	}
}

void ctr_attach_open(void)
{
	/* A restart keeps the socket and its clients: they see the next run's output. */
	if (!at.dir || at.listen_fd >= 0)
		return;
	int cwd = in_dir();
	if (cwd < 0) {
		warnx_nsx("attach: %s: %s", at.dir, strerror(errno));
		return;
	}
	unlink("attach.sock");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, "attach.sock");
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	mode_t old = umask(0077);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
		warnx_nsx("attach: listen on %s/attach.sock: %s", at.dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	umask(old);
	back(cwd);
	at.listen_fd = fd;
	if (at.first_fd >= 0) {
		at.clients[0].fd = at.first_fd;
		at.first_fd = -1;
	}
}

int ctr_attach_pollfds(struct pollfd *p)
{
	int n = 0;
	if (at.listen_fd < 0)
		return 0;
	p[n++] = (struct pollfd){at.listen_fd, POLLIN, 0};
	for (int i = 0; i < ATTACH_MAX_CLIENTS; i++)
		p[n++] = (struct pollfd){at.clients[i].fd, POLLIN, 0};
	return n;
}

static void drop(struct client *c)
{
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

static void frame(struct client *c, int *in)
{
	for (;;) {
		if (c->len < 3)
			return;
		size_t len = ((size_t)c->buf[1] << 8) | c->buf[2];
		if (c->len < 3 + len)
			return;
		int input_fd = *in;
		if (c->buf[0] == 'i' && input_fd >= 0) {
			const unsigned char *d = c->buf + 3;
			size_t left = len;
			while (left > 0) {
				ssize_t w = write(input_fd, d, left);
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0)
					break;
				d += w;
				left -= (size_t)w;
			}
		} else if (c->buf[0] == 'c' && input_fd >= 0) {
			if (input_fd == ctr.in_wr) {
				close(ctr.in_wr); /* the command reads end of file */
				ctr.in_wr = -1;
				*in = -1;
			} else {
				term_send_eof(input_fd);
			}
		} else if (c->buf[0] == 'w' && len == 4 && input_fd >= 0) {
			struct winsize ws = {.ws_row = (unsigned short)((c->buf[3] << 8) | c->buf[4]), .ws_col = (unsigned short)((c->buf[5] << 8) | c->buf[6])};
			ioctl(input_fd, TIOCSWINSZ, &ws); /* the kernel sends SIGWINCH to the terminal's foreground */
		}
		memmove(c->buf, c->buf + 3 + len, c->len - 3 - len);
		c->len -= 3 + len;
	}
}

void ctr_attach_handle(const struct pollfd *p, int n, int input_fd)
{
	if (n == 0)
		return;
	if (p[0].revents & POLLIN) {
		int fd = accept4(at.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0) {
			int i = 0;
			while (i < ATTACH_MAX_CLIENTS && at.clients[i].fd >= 0)
				i++;
			if (i == ATTACH_MAX_CLIENTS)
				close(fd);
			else
				at.clients[i].fd = fd;
		}
	}
	for (int i = 0; i < ATTACH_MAX_CLIENTS && 1 + i < n; i++) {
		struct client *c = &at.clients[i];
		if (c->fd < 0 || p[1 + i].fd != c->fd || !(p[1 + i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (r > 0) {
			c->len += (size_t)r;
			frame(c, &input_fd);
		} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
			drop(c);
		}
	}
}

void ctr_attach_broadcast(int stream, const char *data, size_t len)
{
	/* No socket (a foreground run, logged): no clients; their fds are not even set to -1. */
	if (!at.dir)
		return;
	while (len > 0) {
		size_t chunk = len > FRAME_MAX ? FRAME_MAX : len;
		unsigned char head[3] = {stream == 2 ? 'e' : 'o', (unsigned char)(chunk >> 8), (unsigned char)chunk};
		for (int i = 0; i < ATTACH_MAX_CLIENTS; i++) {
			struct client *c = &at.clients[i];
			if (c->fd < 0)
				continue;
			struct iovec iov[2] = {{head, 3}, {(void *)data, chunk}};
			struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
			ssize_t w = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
			if (w < 0 && errno != EAGAIN && errno != EINTR)
				drop(c);
			else if (w >= 0 && (size_t)w < 3 + chunk)
				drop(c); /* a torn frame: this client cannot keep up */
		}
		data += chunk;
		len -= chunk;
	}
}

void ctr_attach_close(void)
{
	if (!at.dir)
		return;
	for (int i = 0; i < ATTACH_MAX_CLIENTS; i++)
		if (at.clients[i].fd >= 0)
			drop(&at.clients[i]);
	if (at.listen_fd >= 0) {
		close(at.listen_fd);
		at.listen_fd = -1;
		int cwd = in_dir();
		if (cwd >= 0) {
			unlink("attach.sock");
			back(cwd);
		}
	}
}

static void op_attach_client(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	int fd = (int)parse_long(args[0], "fd", 3, 1023);
	/* Not the init's nor the command's: only the supervisor serves it. */
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		die_errno(EXIT_NSX_FAILURE, "attach client fd %d", fd);
	at.first_fd = fd;
}

const struct op ops_attach[] = {
	{"ctr-attach-socket", 1, op_attach_socket, "DIR: the supervisor listens on DIR/attach.sock for nsx attach (output out, terminal input and size in)"},
	{"ctr-attach-client", 1, op_attach_client, "FD: after ctr-attach-socket, FD (a socket) is an attached client from the start (nsx start -a)"},
	{NULL, 0, NULL, NULL},
};
