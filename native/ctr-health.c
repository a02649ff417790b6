/*
 * A container's healthcheck, kept by its supervisor (nsx has no daemon; docker's daemon runs
 * it in daemon/health.go, podman in a systemd timer). One timerfd in the supervisor's loop
 * (ctr-relay.c) starts the probe: the executor itself (/proc/self/exe) with nsx exec's plan
 * for the container, made by TypeScript at start (src/container/health-plan.ts), the init's
 * pid and start time put into its leading `pin`. The same timer kills the probe at its
 * timeout. Each result is written to the state file atomically (a temporary file renamed):
 *
 *   line 1     {"Status":"starting|healthy|unhealthy","FailingStreak":N}
 *   lines 2..  the last 5 results, oldest first, one JSON object a line:
 *              {"Start":"RFC 3339","End":"RFC 3339","ExitCode":N,"Output":"..."}
 *
 * docker's rules: the first probe one interval after the start (sooner when the start period
 * ends first); the next one an interval after the last ended; exit 0 is healthy and resets the
 * streak; anything else is a failure, which within the start period, before any success, does
 * not count; `retries` counted failures in a row make it unhealthy; a probe past its timeout
 * is killed and fails with exit -1; output is kept up to 4096 bytes ("..." marks the cut).
 * No probe while the container is paused (its freezer cgroup frozen) or between the runs of
 * a restart policy; each run (a start, a restart) begins "starting" with a streak of 0, the
 * log kept. A supervisor killed leaves the file as it was: readers (nsx inspect, ps) believe
 * it only while the container runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctr-health.h"
#include "exec.h"
#include "ops-container.h"

#define HEALTH_LOG_MAX 5
#define HEALTH_OUTPUT_MAX 4096

static struct {
	bool on;
	char **argv;          /* the probe's plan: argv[1..3] are "pin PID START" */
	char *state_file;
	long interval_ms, timeout_ms, start_period_ms, start_interval_ms;
	int retries;
	int tfd;              /* timerfd: the next probe, or the running probe's deadline */
	pid_t init;
	char init_pid[16], init_start[32];
	long long started_ms; /* monotonic: this run's start */
	pid_t probe;          /* running (or killed, not yet reaped) probe; 0 when none */
	bool killed;          /* the running probe timed out: its result is written already */
	int out_fd;           /* the probe's stdout and stderr */
	int own_pidns;        /* the supervisor's own pid namespace: its children after `unshare pid` are the container's */
	char out[HEALTH_OUTPUT_MAX];
	size_t out_len;
	bool truncated;
	struct timespec probe_start;
	long long probe_start_ms;
	char status[16];
	int streak;
	char *log[HEALTH_LOG_MAX];
	int nlog;
} h = {.tfd = -1, .out_fd = -1, .own_pidns = -1, .status = "starting"};

bool ctr_health_enabled(void)
{
	return h.on;
}

/* Go's time.Duration.String for whole milliseconds, as docker's timeout message shows it ("1.5s", "1m30s"). */
static void go_duration(long ms, char *buf, size_t n)
{
	if (ms < 1000) {
		snprintf(buf, n, "%ldms", ms);
		return;
	}
	long hrs = ms / 3600000, min = ms / 60000 % 60, sec = ms / 1000 % 60, frac = ms % 1000;
	char s[24];
	if (frac) {
		snprintf(s, sizeof(s), "%ld.%03ld", sec, frac);
		size_t l = strlen(s);
		while (s[l - 1] == '0')
			s[--l] = '\0';
	} else {
		snprintf(s, sizeof(s), "%ld", sec);
	}
	if (hrs)
		snprintf(buf, n, "%ldh%ldm%ss", hrs, min, s);
	else if (min)
		snprintf(buf, n, "%ldm%ss", min, s);
	else
		snprintf(buf, n, "%ss", s);
}

static void rfc3339(const struct timespec *t, char *buf, size_t n)
{
	struct tm tm;
	gmtime_r(&t->tv_sec, &tm);
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, n, "%s.%09ldZ", base, t->tv_nsec);
}

/* S as a JSON string body: quotes, backslashes and control characters escaped. */
static size_t json_escape(char *dst, const char *s, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			dst[o++] = '\\';
			dst[o++] = (char)c;
		} else if (c == '\n') {
			dst[o++] = '\\';
			dst[o++] = 'n';
		} else if (c == '\t') {
			dst[o++] = '\\';
			dst[o++] = 't';
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)sprintf(dst + o, "\\u%04x", c);
		} else {
			dst[o++] = (char)c;
		}
	}
	dst[o] = '\0';
	return o;
}

/* The whole record, to a temporary file renamed over the state file. */
static void write_state(void)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", h.state_file) >= (int)sizeof(tmp))
		return;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		warnx_nsx("healthcheck: cannot write %s: %s", tmp, strerror(errno));
		return;
	}
	char head[128];
	int len = snprintf(head, sizeof(head), "{\"Status\":\"%s\",\"FailingStreak\":%d}\n", h.status, h.streak);
	bool ok = write(fd, head, (size_t)len) == len;
	for (int i = 0; ok && i < h.nlog; i++) {
		size_t l = strlen(h.log[i]);
		ok = write(fd, h.log[i], l) == (ssize_t)l && write(fd, "\n", 1) == 1;
	}
	if (close(fd) < 0 || !ok || rename(tmp, h.state_file) < 0) {
		warnx_nsx("healthcheck: cannot record the result in %s: %s", h.state_file, strerror(errno));
		unlink(tmp);
	}
}

/* The previous runs' results (lines 2.. of the state file): a start keeps them, as docker does. */
static void load_log(void)
{
	FILE *f = fopen(h.state_file, "re");
	if (!f)
		return;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	for (int i = 0; (n = getline(&line, &cap, f)) > 0; i++) {
		if (i == 0 || line[0] != '{')
			continue;
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (h.nlog == HEALTH_LOG_MAX) {
			free(h.log[0]);
			memmove(h.log, h.log + 1, sizeof(h.log[0]) * (HEALTH_LOG_MAX - 1));
			h.nlog--;
		}
		h.log[h.nlog++] = xstrdup(line);
	}
	free(line);
	fclose(f);
}

static void arm(long ms)
{
	struct itimerspec it = {{0, 0}, {ms / 1000, (ms % 1000) * 1000000L}};
	if (ms <= 0)
		it.it_value.tv_nsec = 1; /* 0 would disarm it */
	timerfd_settime(h.tfd, 0, &it, NULL);
}

/* docker's next interval: the start period's end when it comes sooner; start-interval while starting in it. */
static long next_interval(void)
{
	long long elapsed = now_ms() - h.started_ms;
	if (elapsed >= h.start_period_ms)
		return h.interval_ms;
	long long left = h.start_period_ms - elapsed;
	if (left < h.interval_ms)
		return (long)left;
	return strcmp(h.status, "starting") == 0 ? h.start_interval_ms : h.interval_ms;
}

static void record(int exit_code, const char *prefix)
{
	struct timespec end;
	clock_gettime(CLOCK_REALTIME, &end);
	char start_s[48], end_s[48];
	rfc3339(&h.probe_start, start_s, sizeof(start_s));
	rfc3339(&end, end_s, sizeof(end_s));
	/* prefix, ": " and the output (with "..." when cut), each byte escaped to at most 6 */
	size_t plen = prefix ? strlen(prefix) : 0;
	char *raw = malloc(plen + 2 + h.out_len + 4);
	char *entry = raw ? malloc((plen + 2 + h.out_len + 4) * 6 + 256) : NULL;
	if (!entry) {
		free(raw);
		return;
	}
	size_t r = 0;
	if (prefix) {
		memcpy(raw, prefix, plen);
		r = plen;
		if (h.out_len > 0) {
			memcpy(raw + r, ": ", 2);
			r += 2;
		}
	}
	memcpy(raw + r, h.out, h.out_len);
	r += h.out_len;
	if (h.truncated) {
		memcpy(raw + r, "...", 3);
		r += 3;
	}
	int o = sprintf(entry, "{\"Start\":\"%s\",\"End\":\"%s\",\"ExitCode\":%d,\"Output\":\"", start_s, end_s, exit_code);
	o += (int)json_escape(entry + o, raw, r);
	strcpy(entry + o, "\"}");
	free(raw);
	if (h.nlog == HEALTH_LOG_MAX) {
		free(h.log[0]);
		memmove(h.log, h.log + 1, sizeof(h.log[0]) * (HEALTH_LOG_MAX - 1));
		h.nlog--;
	}
	h.log[h.nlog++] = entry;
	if (exit_code == 0) {
		h.streak = 0;
		strcpy(h.status, "healthy");
	} else {
		/* Before any success, a failure within the start period does not count. */
		bool counts = !(strcmp(h.status, "starting") == 0 && h.probe_start_ms - h.started_ms < h.start_period_ms);
		if (counts && ++h.streak >= h.retries)
			strcpy(h.status, "unhealthy");
	}
	write_state();
}

static void drain_output(void)
{
	if (h.out_fd < 0)
		return;
	char buf[4096];
	for (;;) {
		ssize_t n = read(h.out_fd, buf, sizeof(buf));
		if (n > 0) {
			size_t keep = HEALTH_OUTPUT_MAX - h.out_len;
			if ((size_t)n < keep)
				keep = (size_t)n;
			memcpy(h.out + h.out_len, buf, keep);
			h.out_len += keep;
			if (keep < (size_t)n)
				h.truncated = true;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || errno != EAGAIN) {
			close(h.out_fd);
			h.out_fd = -1;
		}
		return;
	}
}

/* Whether one of the container's freezer cgroups is frozen or freezing (nsx pause). */
static bool paused(void)
{
	for (int i = 0; i < ctr.ncgroups; i++) {
		const char *files[] = {"freezer.state", "cgroup.freeze"};
		for (int f = 0; f < 2; f++) {
			char buf[16];
			if (ctr_cgroup_read(i, files[f], buf, sizeof(buf)) > 0 && (buf[0] == '1' || buf[0] == 'F'))
				return true;
		}
	}
	return false;
}

static void start_probe(void)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		arm(h.interval_ms);
		return;
	}
	h.out_len = 0;
	h.truncated = false;
	h.killed = false;
	clock_gettime(CLOCK_REALTIME, &h.probe_start);
	h.probe_start_ms = now_ms();
	/* Born in the supervisor's pid namespace, not the container's (where its unshare puts children):
	 * the probe's plan names the init by its pid here. */
	int children = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
	if (h.own_pidns >= 0)
		setns(h.own_pidns, CLONE_NEWPID);
	pid_t pid = fork();
	if (pid != 0 && children >= 0) {
		setns(children, CLONE_NEWPID);
		close(children);
	}
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		h.out_len = (size_t)snprintf(h.out, sizeof(h.out), "cannot start the health check: %s", strerror(errno));
		record(-1, NULL);
		arm(next_interval());
		return;
	}
	if (pid == 0) {
		if (children >= 0)
			close(children);
		/* Out of the supervisor's session (a terminal's ^C is not for the probe); dies with it. */
		setsid();
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null < 0 || dup2(null, 0) < 0 || dup2(p[1], 1) < 0 || dup2(p[1], 2) < 0)
			_exit(EXIT_NSX_FAILURE);
		/* The container may have ended meanwhile: the pin fails then, and says so. */
		h.argv[2] = h.init_pid;
		h.argv[3] = h.init_start;
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv("/proc/self/exe", h.argv);
		dprintf(2, "cannot run the health check: %s", strerror(errno));
		_exit(EXIT_NSX_FAILURE);
	}
	close(p[1]);
	h.out_fd = p[0];
	h.probe = pid;
	arm(h.timeout_ms);
}

void ctr_health_begin(pid_t init)
{
	if (!h.on)
		return;
	h.init = init;
	snprintf(h.init_pid, sizeof(h.init_pid), "%d", (int)init);
	snprintf(h.init_start, sizeof(h.init_start), "%llu", proc_start_time(init, true));
	h.started_ms = now_ms();
	strcpy(h.status, "starting");
	h.streak = 0;
	write_state();
	if (h.tfd < 0)
		h.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (h.tfd < 0) {
		warnx_nsx("healthcheck: timerfd: %s", strerror(errno));
		return;
	}
	arm(next_interval());
}

int ctr_health_pollfds(struct pollfd *p)
{
	if (!h.on || h.tfd < 0)
		return 0;
	p[0] = (struct pollfd){h.tfd, POLLIN, 0};
	p[1] = (struct pollfd){h.out_fd, POLLIN, 0};
	return 2;
}

void ctr_health_handle(const struct pollfd *p, int n)
{
	if (n < 2)
		return;
	if (p[1].fd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
		drain_output();
	if (!(p[0].revents & POLLIN))
		return;
	uint64_t ticks;
	if (read(h.tfd, &ticks, sizeof(ticks)) < 0)
		return;
	if (h.probe > 0 && !h.killed) {
		/* The deadline: killed (its process in the container dies with it), and failed now. */
		kill(h.probe, SIGKILL);
		h.killed = true;
		drain_output();
		char msg[160], d[96];
		go_duration(h.timeout_ms, d, sizeof(d));
		snprintf(msg, sizeof(msg), "Health check exceeded timeout (%s)", d);
		record(-1, msg);
		arm(next_interval());
		return;
	}
	if (h.probe > 0 || paused()) {
		/* A killed probe not reaped yet, or a frozen container: try again an interval later. */
		arm(h.interval_ms);
		return;
	}
	start_probe();
}

void ctr_health_sigchld(void)
{
	if (h.probe <= 0)
		return;
	int status;
	if (waitpid(h.probe, &status, WNOHANG) != h.probe)
		return;
	h.probe = 0;
	drain_output();
	if (h.out_fd >= 0) {
		/* Something the probe started still holds the pipe: its output ends here. */
		close(h.out_fd);
		h.out_fd = -1;
	}
	if (h.killed)
		return;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
	record(code, NULL);
	arm(next_interval());
}

void ctr_health_end(void)
{
	if (!h.on)
		return;
	if (h.probe > 0) {
		kill(h.probe, SIGKILL);
		while (waitpid(h.probe, NULL, 0) < 0 && errno == EINTR)
			;
		h.probe = 0;
	}
	if (h.out_fd >= 0) {
		close(h.out_fd);
		h.out_fd = -1;
	}
	if (h.tfd >= 0) {
		struct itimerspec off = {{0, 0}, {0, 0}};
		timerfd_settime(h.tfd, 0, &off, NULL);
	}
}

static long parse_ms(const char *s, const char *what)
{
	return parse_long(s, what, 1, 1000L * 3600 * 24 * 365);
}

/* ctr-health PROBE STATE INTERVAL TIMEOUT START_PERIOD START_INTERVAL RETRIES */
static void op_health(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	size_t len;
	char *buf = read_whole_file(args[0], 0, &len);
	int argc = 0;
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\0')
			argc++;
	h.argv = calloc((size_t)argc + 1, sizeof(char *));
	if (!h.argv)
		die(EXIT_NSX_FAILURE, "out of memory");
	for (size_t i = 0, a = 0; i < len && (int)a < argc; a++) {
		h.argv[a] = buf + i;
		i += strlen(buf + i) + 1;
	}
	if (argc < 5 || strcmp(h.argv[1], "pin") != 0)
		die(EXIT_NSX_FAILURE, "invalid plan: the health probe %s does not start with pin", args[0]);
	h.state_file = xstrdup(args[1]);
	h.interval_ms = parse_ms(args[2], "health interval");
	h.timeout_ms = parse_ms(args[3], "health timeout");
	h.start_period_ms = parse_long(args[4], "health start period", 0, 1000L * 3600 * 24 * 365);
	h.start_interval_ms = parse_ms(args[5], "health start interval");
	h.retries = (int)parse_long(args[6], "health retries", 1, 1 << 30);
	h.own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	h.on = true;
	load_log();
	write_state();
}

const struct op ops_health[] = {
	{"ctr-health", 7, op_health, "PROBE STATE INTERVAL TIMEOUT START_PERIOD START_INTERVAL RETRIES: the supervisor runs the healthcheck (times in ms; PROBE: the exec plan, NUL-separated)"},
	{NULL, 0, NULL, NULL},
};
