/* A container's healthcheck, run by its supervisor (ctr-health.c). */
#ifndef NSX_CTR_HEALTH_H
#define NSX_CTR_HEALTH_H
#include <poll.h>
#include <stdbool.h>
#include <sys/types.h>

/* The most fds ctr_health_pollfds adds. */
#define HEALTH_POLLFDS 2
/* Whether ctr-health was in the plan. */
bool ctr_health_enabled(void);
/* A run of the container begins (its init forked): "starting", streak 0, the first probe scheduled. */
void ctr_health_begin(pid_t init);
/* The timer and the running probe's output, for the supervisor's poll; returns how many. */
int ctr_health_pollfds(struct pollfd *p);
/* What poll said of them: a probe started, timed out, its output read. */
void ctr_health_handle(const struct pollfd *p, int n);
/* On SIGCHLD: the probe reaped, its result recorded. */
void ctr_health_sigchld(void);
/* The run ends: a running probe killed and reaped, the timer stopped. */
void ctr_health_end(void);
#endif
