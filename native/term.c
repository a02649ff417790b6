/*
 * The caller's terminal and a pseudo-terminal's master, shared by the two relays: the
 * container's supervisor (ctr-relay.c, nsx run -t) and nsx exec -t (ops-exec-tty.c).
 */
#include <errno.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "term.h"

static struct termios saved;
static bool raw_set;

bool write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		buf += w;
		len -= (size_t)w;
	}
	return true;
}

void term_raw(void)
{
	if (raw_set || !isatty(0) || tcgetattr(0, &saved) < 0)
		return;
	struct termios raw = saved;
	cfmakeraw(&raw);
	if (tcsetattr(0, TCSADRAIN, &raw) == 0)
		raw_set = true;
}

void term_restore(void)
{
	if (raw_set)
		tcsetattr(0, TCSADRAIN, &saved);
	raw_set = false;
}

void term_copy_size(int master)
{
	struct winsize ws;
	if (ioctl(0, TIOCGWINSZ, &ws) == 0 || ioctl(1, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

void term_send_eof(int master)
{
	struct termios t;
	char eof = tcgetattr(master, &t) == 0 ? (char)t.c_cc[VEOF] : 4;
	write_all(master, &eof, 1);
}
