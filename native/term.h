/* term.c: the caller's terminal and a pseudo-terminal's master, for the ops that relay one
 * (ctr-relay.c: nsx run -t; ops-exec-tty.c: nsx exec -t). */
#ifndef NSX_TERM_H
#define NSX_TERM_H

#include <stdbool.h>
#include <stddef.h>

/* All of BUF to FD (a short write or EINTR is retried); false on an error. */
bool write_all(int fd, const char *buf, size_t len);
/* Our stdin in raw mode when it is a terminal (every key, ^C and ^Z included, goes through). */
void term_raw(void);
/* The mode term_raw changed, back (nothing when it changed nothing). */
void term_restore(void);
/* Our window size (stdin's, else stdout's) to the pseudo-terminal MASTER. */
void term_copy_size(int master);
/* End of input, as a user's ^D: the pseudo-terminal's EOF character to MASTER. */
void term_send_eof(int master);

#endif
