/*
 * What a container's network needs from its supervisor (src/network/ makes the rest):
 *
 *   ctr-exit-hook 1 PATH  once the container has ended for good (after its last restart),
 *                         before its cgroups and directory are removed, run the executable
 *                         PATH (no argument, stdin and stdout on /dev/null, stderr kept) and
 *                         wait for it. nsx writes there the CNI DEL of the container's
 *                         attachments (veth, address lease, NAT and port rules) and the
 *                         removal of its network namespace, so a container that ends by
 *                         itself, or an --rm one in the foreground, leaves nothing behind.
 *                         The same file is what `nsx rm` and `nsx gc` run when the
 *                         supervisor was killed before it could (a second run is harmless:
 *                         CNI DEL is idempotent).
 *   ctr-exit-hook-bg 1 PATH
 *                         the same, but the supervisor does not wait for it: PATH runs in a
 *                         session of its own (a grandchild, reparented once the supervisor
 *                         exits), fds above 2 closed, stderr kept. A foreground `nsx run`
 *                         so returns the command's status without the CNI DEL in its path;
 *                         a caller that reads nsx's stderr through a pipe still sees the end
 *                         of the teardown (the pipe closes when it ends). The script holds a
 *                         lock on itself while it runs, so nsx rm, gc and the next start of
 *                         the same container wait for it; until it has run, its record in the
 *                         store says what to undo, so a SIGKILL leaves nothing nsx gc misses.
 *
 *   ctr-net-hook 1 PATH   (supervisor) once the init has its own network namespace (it says
 *                         so with ctr-net-ready), run the executable PATH with the init's
 *                         pid as its one argument (stdin on /dev/null, stdout and stderr
 *                         kept) and wait for it; the init goes on only if it exits 0. nsx
 *                         writes there the start of a rootless container's user-mode network
 *                         stack (pasta or slirp4netns, src/network/rootless.ts), which joins
 *                         the init's user and network namespaces by its pid, so the command
 *                         has its network before it runs. Run again for each --restart.
 *   ctr-net-ready 0       (init) after its network namespace is made: hand over to the hook
 *                         and wait; the hook failed: the init ends (EXIT_NSX_FAILURE).
 * And CNI ADD in one process (src/network/attach.ts runs it beside the start's planning, so
 * Node waits for one child, not for one exec after the other):
 *
 *   netns-new 1 PATH      a new network namespace pinned at PATH (a bind mount of its nsfs
 *                         file, as `unshare --net=PATH` makes it), made without leaving ours:
 *                         unshare, bind mount, setns back
 *   cni-chain 0           a new chain of plugins (an attachment): no previous result
 *   cni-add 3 PLUGIN CONF OUT
 *                         run the CNI plugin PLUGIN (its CNI_* variables set by setenv) with
 *                         CONF on stdin, the previous plugin's result of this chain added as
 *                         "prevResult" (CONF is a JSON object: the key goes before its last
 *                         brace), its stdout in OUT; a plugin that fails ends the plan with
 *                         status 3 (OUT holds its CNI error, for the caller to word)
 *   cni-status 1 PATH     open (create, empty) PATH and hold an exclusive lock on it until this
 *                         process (or the background one below) ends: the ADD's outcome, "ok"
 *                         (cni-done) or the failed plugin's error in one line (cni-add). The
 *                         container's init waits for the lock (ctr-net-wait) before its command
 *                         runs, and the teardown script before its DEL: a crash releases it
 *                         with no "ok", which the init reports
 *   cni-background 1 LOG  fork: this process exits 0 (its caller knows the namespace is made and
 *                         the status locked); the child goes on with the rest of the plan in a
 *                         session of its own, stdin and stdout on /dev/null, stderr to LOG. So
 *                         the ADD chain runs while the start is planned and while the executor
 *                         sets the container's root up, instead of before either
 *   cni-done 0            write "ok" to the status file
 *   end 0                 exit 0: a plan that execs nothing
 *
 * And in the container's init:
 *   ctr-net-wait-fd 1 PATH
 *                         open the status file PATH (before pivot_root: it is on the host)
 *   ctr-net-wait 0        wait for the ADD (a shared lock on it), then go on if it says "ok";
 *                         else say its line and end (EXIT_NSX_FAILURE; a detached starter is
 *                         told on its ready fd), the supervisor's exit hook then tears down
 */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec.h"
#include "ops-container.h"

static char *exit_hook;
static bool exit_hook_bg;

/* A hook's path, absolute, kept in *SLOT (the op's name for the error). */
static void set_hook(char **slot, const char *op, const char *path)
{
	if (path[0] != '/')
		die(EXIT_NSX_FAILURE, "invalid plan: %s %s: not an absolute path", op, path);
	free(*slot);
	*slot = strdup(path);
	if (!*slot)
		die(EXIT_NSX_FAILURE, "out of memory");
}

static void op_exit_hook(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	exit_hook_bg = false;
	set_hook(&exit_hook, "ctr-exit-hook", args[0]);
}

static void op_exit_hook_bg(struct exec_state *st, char **args, int nargs)
{
	op_exit_hook(st, args, nargs);
	exit_hook_bg = true;
}

/* In a hook's process: default signals, stdin (and stdout unless kept) on /dev/null, then PATH [ARG]. */
static void exec_hook_at(const char *path, const char *arg, bool keep_stdout)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		if (!keep_stdout)
			dup2(null, 1);
	}
	execl(path, path, arg, (char *)NULL);
	_exit(EXIT_CANNOT_EXECUTE);
}

static void exec_hook(void)
{
	exec_hook_at(exit_hook, NULL, false);
}

/*
 * The supervisor may have unshared a pid namespace for the container, whose init may be gone:
 * new children could not be born there (ENOMEM). Its own pid namespace takes them. (A rootless
 * supervisor unshared none, and may not setns: nothing to do.)
 */
static void own_pid_namespace(const char *what, const char *path)
{
	struct stat mine, children;
	if (stat("/proc/self/ns/pid", &mine) == 0 && stat("/proc/self/ns/pid_for_children", &children) == 0 && mine.st_ino == children.st_ino)
		return;
	int own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (own < 0 || setns(own, CLONE_NEWPID) < 0)
		warnx_nsx("%s %s: back to our pid namespace: %s", what, path, strerror(errno));
	if (own >= 0)
		close(own);
}

void ctr_run_exit_hook(void)
{
	if (!exit_hook || access(exit_hook, X_OK) < 0)
		return;
	own_pid_namespace("exit hook", exit_hook);
	pid_t pid = fork();
	if (pid < 0) {
		warnx_nsx("exit hook %s: fork: %s", exit_hook, strerror(errno));
		return;
	}
	if (pid == 0) {
		if (exit_hook_bg) {
			/* Out of the terminal's session, and out of our children: a grandchild. Only
			 * stderr is kept: the terminal, the log and the starter's pipes are not held. */
			setsid();
			syscall(SYS_close_range, 3, ~0U, 0);
			pid_t grandchild = fork();
			if (grandchild != 0)
				_exit(grandchild < 0 ? EXIT_NSX_FAILURE : 0);
		}
		exec_hook();
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

static char *net_hook;
static int net_sock[2] = {-1, -1};

static void op_net_hook(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	set_hook(&net_hook, "ctr-net-hook", args[0]);
}

void ctr_net_hook_prepare(void)
{
	if (net_hook && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, net_sock) < 0)
		die_errno(EXIT_NSX_FAILURE, "socketpair");
}

void ctr_net_hook_child(void)
{
	if (net_sock[0] >= 0) {
		close(net_sock[0]);
		net_sock[0] = -1;
	}
}

/* The supervisor's side: wait for the init's word, run the hook with its pid, answer o (go on) or e. */
void ctr_net_hook_parent(pid_t init)
{
	if (net_sock[0] < 0)
		return;
	close(net_sock[1]);
	net_sock[1] = -1;
	char c;
	if (read(net_sock[0], &c, 1) == 1) {
		char arg[16];
		snprintf(arg, sizeof(arg), "%d", (int)init);
		own_pid_namespace("network hook", net_hook);
		int status = -1;
		pid_t pid = fork();
		if (pid < 0)
			warnx_nsx("network hook %s: fork: %s", net_hook, strerror(errno));
		if (pid == 0)
			exec_hook_at(net_hook, arg, true);
		while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		c = pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 'o' : 'e';
		if (write(net_sock[0], &c, 1) < 0) {
			/* the init is gone; supervise() sees it */
		}
	}
	close(net_sock[0]);
	net_sock[0] = -1;
}

static void op_net_ready(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	if (net_sock[1] < 0)
		die(EXIT_NSX_FAILURE, "invalid plan: ctr-net-ready without ctr-net-hook");
	char c = 'n';
	/* The hook opens /proc/PID/ns/{user,net} as the user who started the container: the init
	 * is dumpable while it waits (nothing of the container runs yet), as before the fork. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	bool said = write(net_sock[1], &c, 1) == 1 && read(net_sock[1], &c, 1) == 1;
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (!said || c != 'o') {
		/* A detached starter waits on the ready fd: a byte says the start failed, and how. */
		unsigned char code = EXIT_NSX_FAILURE;
		if (ctr.ready_fd >= 0 && write(ctr.ready_fd, &code, 1) < 0) {
			/* the starter is gone */
		}
		if (!said)
			die(EXIT_NSX_FAILURE, "the container's network could not be set up: its supervisor is gone");
		/* The hook has said why on the supervisor's stderr: its line is the one the starter reports. */
		_exit(EXIT_NSX_FAILURE);
	}
	close(net_sock[1]);
	net_sock[1] = -1;
}

static void op_netns_new(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	int own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (own < 0)
		die_errno(EXIT_NSX_FAILURE, "open our network namespace");
	int fd = open(args[0], O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		die_errno(EXIT_NSX_FAILURE, "create %s", args[0]);
	close(fd);
	if (unshare(CLONE_NEWNET) < 0) {
		int e = errno;
		unlink(args[0]);
		errno = e;
		die_errno(EXIT_NSX_FAILURE, "unshare(net)");
	}
	if (mount("/proc/thread-self/ns/net", args[0], NULL, MS_BIND, NULL) < 0) {
		int e = errno;
		unlink(args[0]);
		errno = e;
		die_errno(EXIT_NSX_FAILURE, "pin the network namespace at %s", args[0]);
	}
	if (setns(own, CLONE_NEWNET) < 0)
		die_errno(EXIT_NSX_FAILURE, "setns(net) back to ours");
	close(own);
}

static char *read_file(const char *path, size_t *len);

/* cni-status: the ADD's outcome, locked while it runs. */
static int status_fd = -1;

static void op_cni_status(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	status_fd = open(args[0], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (status_fd < 0)
		die_errno(EXIT_NSX_FAILURE, "create %s", args[0]);
	while (flock(status_fd, LOCK_EX) < 0)
		if (errno != EINTR)
			die_errno(EXIT_NSX_FAILURE, "lock %s", args[0]);
}

static void op_cni_background(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	int log = open(args[0], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (log < 0)
		die_errno(EXIT_NSX_FAILURE, "create %s", args[0]);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		die_errno(EXIT_NSX_FAILURE, "open /dev/null");
	pid_t pid = fork();
	if (pid < 0)
		die_errno(EXIT_NSX_FAILURE, "fork");
	if (pid > 0)
		_exit(0);
	setsid();
	if (dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(log, 2) < 0)
		_exit(EXIT_NSX_FAILURE);
	close(null);
	close(log);
}

static void op_cni_done(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	if (status_fd >= 0 && write(status_fd, "ok\n", 3) != 3)
		die_errno(EXIT_NSX_FAILURE, "write the ADD's status");
}

/*
 * The JSON string value of KEY in TEXT (a CNI error object: "msg", "details"), decoded
 * (escapes; \uXXXX as UTF-8), up to its first line; NULL when absent. Enough for an error
 * object, not a JSON parser.
 */
static char *json_string(const char *text, const char *key)
{
	char pat[32];
	snprintf(pat, sizeof(pat), "\"%s\"", key);
	const char *p = strstr(text, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p++ != ':')
		return NULL;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p++ != '"')
		return NULL;
	char *out = malloc(strlen(p) * 3 + 1), *o = out;
	if (!out)
		return NULL;
	for (; *p && *p != '"'; p++) {
		if (*p != '\\') {
			*o++ = *p;
			continue;
		}
		p++;
		if (!*p)
			break;
		switch (*p) {
		case 'n': *o++ = '\n'; break;
		case 't': *o++ = '\t'; break;
		case 'r': *o++ = '\r'; break;
		case 'b': case 'f': *o++ = ' '; break;
		case 'u': {
			unsigned v = 0;
			int i = 0;
			for (; i < 4 && p[1]; i++, p++) {
				char c = p[1];
				v = v * 16 + (unsigned)(c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0');
			}
			if (v < 0x80) {
				*o++ = (char)v;
			} else if (v < 0x800) {
				*o++ = (char)(0xc0 | (v >> 6));
				*o++ = (char)(0x80 | (v & 0x3f));
			} else {
				*o++ = (char)(0xe0 | (v >> 12));
				*o++ = (char)(0x80 | ((v >> 6) & 0x3f));
				*o++ = (char)(0x80 | (v & 0x3f));
			}
			break;
		}
		default: *o++ = *p;
		}
	}
	*o = 0;
	out[strcspn(out, "\n")] = 0;
	return out;
}

/* A failed plugin's error, worded as src/network/cni.ts words it, in the status file. */
static void say_failure(const char *plugin, const char *out, int status)
{
	if (status_fd < 0)
		return;
	const char *type = strrchr(plugin, '/') ? strrchr(plugin, '/') + 1 : plugin;
	size_t len = 0;
	char *text = read_file(out, &len);
	char *msg = text ? json_string(text, "msg") : NULL, *details = text ? json_string(text, "details") : NULL;
	char line[1024];
	if (msg && *msg && details && *details)
		snprintf(line, sizeof(line), "CNI plugin %s ADD failed: %s: %s\n", type, msg, details);
	else if ((msg && *msg) || (details && *details))
		snprintf(line, sizeof(line), "CNI plugin %s ADD failed: %s\n", type, msg && *msg ? msg : details);
	else if (text && text[strspn(text, " \t\r\n")])
		snprintf(line, sizeof(line), "CNI plugin %s ADD failed: %.*s\n", type, (int)strcspn(text + strspn(text, " \t\r\n"), "\n"), text + strspn(text, " \t\r\n"));
	else
		snprintf(line, sizeof(line), "CNI plugin %s ADD failed: exit status %d\n", type, status);
	if (write(status_fd, line, strlen(line)) < 0) {
		/* the init then says the ADD did not finish */
	}
	free(text), free(msg), free(details);
}

/* The result of the chain's last plugin (its stdout), for the next one's prevResult. */
static char *chain_prev;
static size_t chain_prev_len;

static void op_cni_chain(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	free(chain_prev);
	chain_prev = NULL;
	chain_prev_len = 0;
}

static char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat sb;
	char *buf = NULL;
	if (fstat(fd, &sb) == 0 && (buf = malloc((size_t)sb.st_size + 1))) {
		size_t got = 0;
		while (got < (size_t)sb.st_size) {
			ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		buf[got] = 0;
		*len = got;
	}
	close(fd);
	return buf;
}

static void write_all(int fd, const char *buf, size_t len, const char *what)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_errno(EXIT_NSX_FAILURE, "write %s", what);
		buf += n;
		len -= (size_t)n;
	}
}

static void op_cni_add(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	const char *plugin = args[0], *conf = args[1], *out = args[2];
	size_t len = 0;
	char *text = read_file(conf, &len);
	if (!text)
		die_errno(EXIT_NSX_FAILURE, "read %s", conf);
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
		len--;
	if (len < 2 || text[0] != '{' || text[len - 1] != '}')
		die(EXIT_NSX_FAILURE, "invalid plan: cni-add %s: not a JSON object", conf);
	int in = memfd_create("cni-stdin", MFD_CLOEXEC);
	if (in < 0)
		die_errno(EXIT_NSX_FAILURE, "memfd_create");
	write_all(in, text, len - 1, "the plugin's input");
	if (chain_prev_len > 0) {
		static const char key[] = ",\"prevResult\":";
		write_all(in, key, sizeof(key) - 1, "the plugin's input");
		write_all(in, chain_prev, chain_prev_len, "the plugin's input");
	}
	write_all(in, "}", 1, "the plugin's input");
	free(text);
	if (lseek(in, 0, SEEK_SET) < 0)
		die_errno(EXIT_NSX_FAILURE, "lseek");
	int o = open(out, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (o < 0)
		die_errno(EXIT_NSX_FAILURE, "create %s", out);
	pid_t pid = fork();
	if (pid < 0)
		die_errno(EXIT_NSX_FAILURE, "fork");
	if (pid == 0) {
		if (dup2(in, 0) < 0 || dup2(o, 1) < 0)
			_exit(EXIT_NSX_FAILURE);
		execl(plugin, plugin, (char *)NULL);
		dprintf(2, "%s: cannot execute %s: %s\n", nsx_prefix, plugin, strerror(errno));
		_exit(EXIT_CANNOT_EXECUTE);
	}
	close(in);
	close(o);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die_errno(EXIT_NSX_FAILURE, "waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		say_failure(plugin, out, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		exit(3);
	}
	/* A plugin that prints nothing passes the previous result on. */
	size_t rlen = 0;
	char *result = read_file(out, &rlen);
	while (result && rlen > 0 && (result[rlen - 1] == '\n' || result[rlen - 1] == ' '))
		rlen--;
	if (result && rlen > 0) {
		free(chain_prev);
		chain_prev = result;
		chain_prev_len = rlen;
	} else {
		free(result);
	}
}

/* The init's side: the status file, opened before pivot_root; waited for before the command runs. */
static int wait_fd = -1;

static void op_net_wait_fd(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	wait_fd = open(args[0], O_RDONLY | O_CLOEXEC);
	if (wait_fd < 0)
		die_errno(EXIT_NSX_FAILURE, "open %s", args[0]);
}

static void op_net_wait(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	if (wait_fd < 0)
		die(EXIT_NSX_FAILURE, "invalid plan: ctr-net-wait without ctr-net-wait-fd");
	while (flock(wait_fd, LOCK_SH) < 0)
		if (errno != EINTR)
			die_errno(EXIT_NSX_FAILURE, "wait for the container's network");
	char buf[1024];
	ssize_t n;
	while ((n = pread(wait_fd, buf, sizeof(buf) - 1, 0)) < 0 && errno == EINTR)
		;
	buf[n > 0 ? n : 0] = 0;
	close(wait_fd);
	wait_fd = -1;
	if (strncmp(buf, "ok\n", 3) == 0)
		return;
	buf[strcspn(buf, "\n")] = 0;
	unsigned char code = EXIT_NSX_FAILURE;
	if (ctr.ready_fd >= 0 && write(ctr.ready_fd, &code, 1) < 0) {
		/* the starter is gone */
	}
	die(EXIT_NSX_FAILURE, "%s", buf[0] ? buf : "the container's network could not be set up: its CNI ADD did not finish");
}

static void op_end(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	exit(0);
}

const struct op ops_network[] = {
	{"ctr-exit-hook", 1, op_exit_hook, "PATH: run this executable once the container has ended (its network's teardown)"},
	{"netns-new", 1, op_netns_new, "PATH: a new network namespace pinned at PATH (bind mount), ours kept"},
	{"cni-chain", 0, op_cni_chain, "a new chain of CNI plugins: no previous result"},
	{"cni-add", 3, op_cni_add, "PLUGIN CONF OUT: run a CNI plugin, CONF (+ the chain's prevResult) on stdin, its stdout to OUT; failure: status 3"},
	{"end", 0, op_end, "exit 0 (a plan that execs nothing)"},
	{"ctr-exit-hook-bg", 1, op_exit_hook_bg, "PATH: the same, without waiting for it (a foreground run: its status is not held up)"},
	{"ctr-net-hook", 1, op_net_hook, "PATH: run this executable with the init's pid once it has its network namespace (a rootless network stack)"},
	{"cni-status", 1, op_cni_status, "PATH: the ADD's outcome (ok, or the failed plugin's error), locked until this process ends"},
	{"cni-background", 1, op_cni_background, "LOG: fork; this process exits 0, the child goes on in a session of its own, stderr to LOG"},
	{"cni-done", 0, op_cni_done, "write ok to the cni-status file"},
	{"ctr-net-wait-fd", 1, op_net_wait_fd, "PATH: open the ADD's status file (before pivot_root)"},
	{"ctr-net-wait", 0, op_net_wait, "wait for the ADD (its status file's lock); go on if it says ok, else say why and end"},
	{"ctr-net-ready", 0, op_net_ready, "the init has its network namespace: the supervisor runs ctr-net-hook, the init waits for it"},
	{NULL, 0, NULL, NULL},
};
