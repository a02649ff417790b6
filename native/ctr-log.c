/*
 * The container's log, kept by its supervisor: docker's json-file format, one entry per line
 * of output, {"log":"LINE\n","stream":"stdout"|"stderr","time":"RFC3339 with ns"}, stdout
 * and stderr kept apart. Bounded: past MAXSIZE bytes the file is rotated (LOG -> LOG.1 -> ...
 * LOG.(MAXFILES-1), the oldest dropped), so a chatty container cannot fill the disk.
 * ctr-log-none (docker's none driver): the output goes through the same relay (attach clients,
 * a foreground run's terminal) and is kept nowhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctr-log.h"
#include "exec.h"

/* docker's cut for a line without newline: longer ones are split into entries. */
#define LINE_MAX_BYTES 16384

static struct {
	char *path;
	long long max_size; /* 0: unbounded */
	int max_files;
	int fd;
	long long size;
	char pending[2][LINE_MAX_BYTES];
	size_t npending[2];
	bool none;          /* ctr-log-none: relayed, never written */
	bool tee;           /* ctr-log-tee: a foreground run, the output goes on to nsx's stdout and stderr too */
	char out[1 << 16];  /* entries of one read, written at once */
	size_t nout;
} lg = {.fd = -1};

bool ctr_log_enabled(void)
{
	return lg.path != NULL;
}

bool ctr_log_tee(void)
{
	return lg.path != NULL && lg.tee;
}

static void op_log_tee(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	lg.tee = true;
}

/* The entries gathered, in one write. */
static void out_flush(void)
{
	const char *p = lg.out;
	size_t left = lg.nout;
	lg.nout = 0;
	while (left > 0 && lg.fd >= 0) {
		ssize_t w = write(lg.fd, p, left);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return; /* a full disk: the entries are lost, the container goes on */
		}
		p += w;
		left -= (size_t)w;
	}
}

static void op_log_none(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	lg.none = true;
	lg.path = strdup("");
	if (!lg.path)
		die(EXIT_NSX_FAILURE, "out of memory");
}

static void op_log(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	char *end;
	lg.max_size = strtoll(args[1], &end, 10);
	if (*end || lg.max_size < 0)
		die(EXIT_NSX_FAILURE, "invalid plan: ctr-log size %s", args[1]);
	lg.max_files = (int)strtol(args[2], &end, 10);
	if (*end || lg.max_files < 1 || lg.max_files > 100)
		die(EXIT_NSX_FAILURE, "invalid plan: ctr-log files %s", args[2]);
	lg.path = strdup(args[0]);
	if (!lg.path)
		die(EXIT_NSX_FAILURE, "out of memory");
}

void ctr_log_open(void)
{
	/* A restart keeps the log it has: one fd for the container's whole life. */
	if (!lg.path || lg.none || lg.fd >= 0)
		return;
	lg.fd = open(lg.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (lg.fd < 0) {
		warnx_nsx("cannot open the log %s: %s", lg.path, strerror(errno));
		return;
	}
	struct stat sb;
	lg.size = fstat(lg.fd, &sb) == 0 ? (long long)sb.st_size : 0;
}

static void rotate(void)
{
	char from[PATH_MAX], to[PATH_MAX];
	close(lg.fd);
	lg.fd = -1;
	for (int i = lg.max_files - 1; i >= 1; i--) {
		if (i == 1)
			snprintf(from, sizeof(from), "%s", lg.path);
		else
			snprintf(from, sizeof(from), "%s.%d", lg.path, i - 1);
		snprintf(to, sizeof(to), "%s.%d", lg.path, i);
		if (rename(from, to) < 0 && errno != ENOENT)
			warnx_nsx("cannot rotate the log %s: %s", from, strerror(errno));
	}
	/* One file only: start it again. */
	lg.fd = open(lg.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | (lg.max_files == 1 ? O_TRUNC : 0), 0600);
	lg.size = 0;
}

/* One entry: the bytes JSON-escaped (control characters as \u00XX; other bytes as they are). */
static void entry(enum log_stream s, const char *data, size_t len)
{
	static char out[LINE_MAX_BYTES * 6 + 128];
	if (lg.fd < 0)
		return;
	size_t n = 0;
	n += (size_t)snprintf(out + n, sizeof(out) - n, "{\"log\":\"");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];
		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c == '\n') {
			out[n++] = '\\';
			out[n++] = 'n';
		} else if (c == '\t') {
			out[n++] = '\\';
			out[n++] = 't';
		} else if (c < 0x20 || c == 0x7f) {
			n += (size_t)snprintf(out + n, sizeof(out) - n, "\\u%04x", c);
		} else {
			out[n++] = (char)c;
		}
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[40];
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(out + n, sizeof(out) - n, "\",\"stream\":\"%s\",\"time\":\"%s.%09ldZ\"}\n", s == LOG_STDOUT ? "stdout" : "stderr", when, ts.tv_nsec);
	if (lg.max_size > 0 && lg.size > 0 && lg.size + (long long)n > lg.max_size) {
		out_flush();
		rotate();
	}
	if (lg.fd < 0)
		return;
	if (lg.nout + n > sizeof(lg.out))
		out_flush();
	if (n > sizeof(lg.out)) {
		lg.nout = 0;
		const char *p = out;
		size_t left = n;
		while (left > 0) {
			ssize_t w = write(lg.fd, p, left);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return;
			}
			p += w;
			left -= (size_t)w;
		}
	} else {
		memcpy(lg.out + lg.nout, out, n);
		lg.nout += n;
	}
	lg.size += (long long)n;
}

void ctr_log_write(enum log_stream s, const char *data, size_t len)
{
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) + 1 : len;
		size_t room = LINE_MAX_BYTES - lg.npending[s];
		if (take > room)
			take = room;
		memcpy(lg.pending[s] + lg.npending[s], data, take);
		lg.npending[s] += take;
		data += take;
		len -= take;
		if (lg.pending[s][lg.npending[s] - 1] == '\n' || lg.npending[s] == LINE_MAX_BYTES) {
			entry(s, lg.pending[s], lg.npending[s]);
			lg.npending[s] = 0;
		}
	}
	out_flush();
}

void ctr_log_flush(void)
{
	for (int s = 0; s < 2; s++)
		if (lg.npending[s] > 0) {
			entry((enum log_stream)s, lg.pending[s], lg.npending[s]);
			lg.npending[s] = 0;
		}
	out_flush();
}

const struct op ops_log[] = {
	{"ctr-log-tee", 0, op_log_tee, "after ctr-log or ctr-log-none: a foreground run, its output logged and relayed to nsx's stdout and stderr"},
	{"ctr-log-none", 0, op_log_none, "the none log driver: the supervisor relays stdout and stderr (attach, ctr-log-tee) and keeps no log"},
	{"ctr-log", 3, op_log, "PATH MAXSIZE MAXFILES: the supervisor logs stdout and stderr there as docker's json-file (rotated past MAXSIZE bytes)"},
	{NULL, 0, NULL, NULL},
};
