/* Clients attached to a detached container's terminal or output (ctr-attach.c). */
#ifndef NSX_CTR_ATTACH_H
#define NSX_CTR_ATTACH_H
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#define ATTACH_MAX_CLIENTS 8

bool ctr_attach_enabled(void);
/* Listen on the socket (in the supervisor, after the fork). */
void ctr_attach_open(void);
/* The fds to poll (listener, clients): fills p from index 0, returns how many. */
int ctr_attach_pollfds(struct pollfd *p);
/* After poll: accept, read the clients' frames; input goes to `input_fd` (the terminal's master, or -1). */
void ctr_attach_handle(const struct pollfd *p, int n, int input_fd);
/* Output of the container to every client: stream 1 stdout, 2 stderr. */
void ctr_attach_broadcast(int stream, const char *data, size_t len);
/* The container has ended: close the clients and remove the socket. */
void ctr_attach_close(void);
#endif
