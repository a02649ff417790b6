/*
 * The supervisor's loop while a container runs (called by ctr-supervise, ops-supervisor.c):
 * signals passed on to the init, the terminal relayed in raw mode (-t), the command's
 * output to the json-file log and attached clients, the wait for the init, and the exit
 * record ("CODE MS restarts=N [oom]") that ps, wait and inspect read.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctr-attach.h"
#include "ctr-health.h"
#include "ctr-log.h"
#include "exec.h"
#include "ops-container.h"
#include "ops-init.h"
#include "term.h"

/* Whether the kernel's OOM killer killed in one of the container's memory cgroups (v1 memory.oom_control, v2 memory.events). */
static bool oom_killed(void)
{
	for (int i = 0; i < ctr.ncgroups; i++) {
		const char *files[] = {"memory.events", "memory.oom_control"};
		for (int f = 0; f < 2; f++) {
			char buf[512];
			if (ctr_cgroup_read(i, files[f], buf, sizeof(buf)) <= 0)
				continue;
			const char *k = strstr(buf, "oom_kill ");
			if (k && atol(k + 9) > 0)
				return true;
		}
	}
	return false;
}

/* The command's end, docker's way (128+N for a signal), with the time in ms and whether the
 * OOM killer struck: "CODE MS [oom]", read by ps, wait, inspect. */
void ctr_write_exit(int status)
{
	if (!ctr.exit_file)
		return;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : EXIT_NSX_FAILURE;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	char tmp[PATH_MAX], line[64];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", ctr.exit_file) >= (int)sizeof(tmp))
		return;
	int len = snprintf(line, sizeof(line), "%d %lld restarts=%u%s\n", code, (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000, ctr.restarts, oom_killed() ? " oom" : "");
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, line, (size_t)len) != len || fsync(fd) < 0 || close(fd) < 0 || rename(tmp, ctr.exit_file) < 0)
		warnx_nsx("cannot record the exit status in %s: %s", ctr.exit_file, strerror(errno));
}

/* The pty master, sent by the init over the socketpair (SCM_RIGHTS). */
static int receive_fd(int sock)
{
	char byte;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {&byte, 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	ssize_t n;
	while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n <= 0)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

/*
 * Forward signals, relay the terminal (with -t), wait for the init, clean up, and leave
 * with the command's status. Signals arrive through a signalfd, so one poll serves all.
 */
int supervise(pid_t child, int status_rd)
{
	sigset_t set;
	forwarded_set(&set);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		die_errno(EXIT_NSX_FAILURE, "signalfd");
	int master = -1;
	if (ctr.tty) {
		master = receive_fd(ctr.pty_sock[0]);
		close(ctr.pty_sock[0]);
		if (master >= 0) {
			term_copy_size(master);
			/* Raw mode: every key, ^C and ^Z included, goes to the container's terminal. */
			term_raw();
		}
	}
	/* A foreground run relays its terminal's input even when logged (ctr-log-tee); a detached one takes it from attach clients. */
	bool stdin_open = master >= 0 && ctr.tty_stdin && (!ctr_log_enabled() || ctr_log_tee());
	bool tee_out[2] = {ctr_log_tee(), ctr_log_tee()};
	if (ctr_log_tee())
		signal(SIGPIPE, SIG_IGN); /* a reader gone: its stream is no longer relayed (below), never a supervisor killed */
	int status = 0;
	bool exited = false;
	char buf[16384];
	/* ctr-term-grace: when a SIGTERM came, the monotonic ms at which the init is SIGKILLed */
	long long kill_at = -1;
	ctr_health_begin(child);
	while (!exited || master >= 0 || ctr.out_rd[0] >= 0 || ctr.out_rd[1] >= 0) {
		struct pollfd p[5 + 1 + ATTACH_MAX_CLIENTS + HEALTH_POLLFDS] = {{sfd, POLLIN, 0}, {master, POLLIN, 0}, {stdin_open ? 0 : -1, POLLIN, 0}, {ctr.out_rd[0], POLLIN, 0}, {ctr.out_rd[1], POLLIN, 0}};
		int na = ctr_attach_pollfds(p + 5);
		int nh = exited ? 0 : ctr_health_pollfds(p + 5 + na);
		if (exited) {
			/* Drain what the command wrote before it ended; the master reads EIO once no slave is left. */
			p[0].fd = -1;
			p[2].fd = -1;
			na = 0;
		}
		int timeout = exited ? 200 : -1;
		if (!exited && kill_at >= 0) {
			long long left = kill_at - now_ms();
			if (left <= 0) {
				kill(child, SIGKILL); /* the whole pid namespace goes with its init */
				kill_at = -1;
				continue;
			}
			timeout = (int)(left < 1000000 ? left : 1000000);
		}
		int n = poll(p, (nfds_t)(5 + na + nh), timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (n == 0 && exited)
			break;
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				int sig = (int)si.ssi_signo;
				if (sig == SIGCHLD) {
					ctr_health_sigchld();
					if (waitpid(child, &status, WNOHANG) == child)
						exited = true;
				} else if (sig == SIGWINCH && master >= 0) {
					term_copy_size(master); /* the kernel tells the container's foreground */
				} else {
					kill(child, sig);
					if (sig == SIGTERM && kill_at < 0 && init_term_grace_ms() >= 0)
						kill_at = now_ms() + init_term_grace_ms();
				}
			}
		}
		for (int s = 0; s < 2; s++) {
			if (ctr.out_rd[s] < 0 || !(p[3 + s].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t r = read(ctr.out_rd[s], buf, sizeof(buf));
			if (r > 0) {
				ctr_log_write((enum log_stream)s, buf, (size_t)r);
				ctr_attach_broadcast(s + 1, buf, (size_t)r);
				/* Our reader gone (nsx run ... | head): the command gets EPIPE/SIGPIPE, as without the relay. */
				if (tee_out[s] && !write_all(s + 1, buf, (size_t)r)) {
					tee_out[s] = false;
					close(ctr.out_rd[s]);
					ctr.out_rd[s] = -1;
				}
			}
			else if (r == 0 || errno != EINTR) {
				close(ctr.out_rd[s]);
				ctr.out_rd[s] = -1;
			}
		}
		if (master >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t r = read(master, buf, sizeof(buf));
			if (r > 0 && ctr_log_enabled()) {
				ctr_log_write(LOG_STDOUT, buf, (size_t)r);
				ctr_attach_broadcast(1, buf, (size_t)r);
				if (tee_out[0] && !write_all(1, buf, (size_t)r))
					tee_out[0] = false;
			} else if (r > 0)
				write_all(1, buf, (size_t)r);
			else if (r < 0 && errno == EINTR)
				continue;
			else {
				close(master);
				master = -1;
			}
		}
		if (stdin_open && (p[2].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t r = read(0, buf, sizeof(buf));
			if (r > 0) {
				if (master >= 0)
					write_all(master, buf, (size_t)r);
			} else if (r == 0 || errno != EINTR) {
				stdin_open = false;
				/* End of input: the terminal's EOF character, as a user's ^D would send. */
				if (master >= 0)
					term_send_eof(master);
			}
		}
		ctr_attach_handle(p + 5, na, master >= 0 ? master : ctr.in_wr);
		ctr_health_handle(p + 5 + na, nh);
		if (master < 0 && !exited) {
			/* No terminal (or it closed): just wait for the init. */
			if (waitpid(child, &status, WNOHANG) == child)
				exited = true;
		}
	}
	if (!exited)
		while (waitpid(child, &status, 0) < 0 && errno == EINTR)
			;
	ctr_health_end();
	term_restore();
	ctr_log_flush();
	close(sfd);
	if (master >= 0)
		close(master);
	/* The init reports the payload's own wait status, so a signal death is passed on as one. */
	int payload_status;
	if (read(status_rd, &payload_status, sizeof(payload_status)) == (ssize_t)sizeof(payload_status))
		status = payload_status;
	close(status_rd);
	return status;
}
