/*
 * The state a container's ops share (ops-container.h says which file holds which ops).
 */
#include <signal.h>
#include <string.h>
#include <time.h>

#include "exec.h"
#include "ops-container.h"

struct ctr_state ctr = {.in_wr = -1, .out_rd = {-1, -1}, .rootfd = -1, .status_fd = -1, .ready_fd = -1, .cgroup_fd = -1, .pid_fd = -1, .pty_sock = {-1, -1}, .root_sock = {-1, -1}};

/* Signals the supervisor and the init pass on to the command. */
static const int FORWARDED[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM};

void forwarded_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(FORWARDED) / sizeof(FORWARDED[0]); i++)
		sigaddset(set, FORWARDED[i]);
	sigaddset(set, SIGCHLD);
}

char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		die(EXIT_NSX_FAILURE, "out of memory");
	return d;
}

long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
