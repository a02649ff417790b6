/*
 * The state a container's ops share (ops-container.h says which file holds which ops).
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

ssize_t ctr_cgroup_read(int i, const char *file, char *buf, size_t size)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", ctr.cleanup_cgroups[i], file) >= (int)sizeof(path))
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}
