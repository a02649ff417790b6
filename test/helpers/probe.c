/*
 * A static probe for container tests (compiled by test/helpers/container.ts): each
 * subcommand makes one syscall-level check from inside a container and prints one
 * line, "NAME ok" or "NAME errno=ENAME", so tests need no downloaded image and read
 * exact kernel answers rather than a shell's interpretation of them.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *errname(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EACCES: return "EACCES";
	case EROFS: return "EROFS";
	case EAGAIN: return "EAGAIN";
	case EINVAL: return "EINVAL";
	case ENOSYS: return "ENOSYS";
	case ETXTBSY: return "ETXTBSY";
	case EBUSY: return "EBUSY";
	case ENOMEM: return "ENOMEM";
	case EXDEV: return "EXDEV";
	case EBADF: return "EBADF";
	case EFAULT: return "EFAULT";
	case ENOKEY: return "ENOKEY";
	case ENODEV: return "ENODEV";
	case ESRCH: return "ESRCH";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	default: return "OTHER";
	}
}

static int report(const char *what, int r)
{
	if (r < 0)
		printf("%s errno=%s\n", what, errname(errno));
	else
		printf("%s ok\n", what);
	return 0;
}

/* Every open fd but the one readdir uses: "fds 0 1 2". */
static int fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return report("fds", -1);
	printf("fds");
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
			continue;
		char path[300], target[PATH_MAX];
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		printf(" %s=%s", e->d_name, target);
	}
	printf("\n");
	closedir(d);
	return 0;
}

/* Allocate and touch N MiB, then say so (an OOM kill means it never does). */
static int alloc(long mib)
{
	for (long i = 0; i < mib; i++) {
		char *p = malloc(1 << 20);
		if (!p)
			return report("alloc", -1);
		memset(p, 1, 1 << 20);
	}
	printf("alloc ok %ld\n", mib);
	return 0;
}

/* Fork until refused; every child waits to be killed. Prints how many forks worked. */
static int forkbomb(void)
{
	int n = 0;
	for (; n < 100000; n++) {
		pid_t p = fork();
		if (p < 0)
			break;
		if (p == 0) {
			pause();
			_exit(0);
		}
	}
	printf("forkbomb stopped after %d errno=%s\n", n, errname(errno));
	fflush(stdout);
	/* The children go when the container's init exits: the kernel kills its pid namespace. */
	return 0;
}

/* Children that exit after their parent: the container's init must reap them. */
static int orphans(int n)
{
	for (int i = 0; i < n; i++) {
		pid_t p = fork();
		if (p == 0) {
			if (fork() == 0) {
				usleep(50000);
				_exit(0);
			}
			_exit(0);
		}
		waitpid(p, NULL, 0);
	}
	usleep(300000);
	/* Count zombies in our pid namespace. */
	DIR *d = opendir("/proc");
	int zombies = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char path[300], buf[512];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f)) {
			char *r = strrchr(buf, ')');
			if (r && r[2] == 'Z')
				zombies++;
		}
		fclose(f);
	}
	if (d)
		closedir(d);
	printf("zombies %d\n", zombies);
	return 0;
}

/*
 * The seccomp verdicts of a list of syscalls: each called with arguments that do no harm
 * (mostly invalid ones, so an allowed call fails with EINVAL, EFAULT or EBADF), printed as
 * "NAME ok" or "NAME errno=E". EPERM where the kernel itself would answer otherwise is the
 * filter's; ENOSYS for a call the kernel has is the filter's answer to a newer syscall.
 */
static long verdict_call(const char *name)
{
	if (!strcmp(name, "getpid")) return syscall(SYS_getpid);
	if (!strcmp(name, "openat")) return syscall(SYS_openat, AT_FDCWD, "/nonexistent-probe", O_RDONLY);
	if (!strcmp(name, "socket-inet")) { long fd = syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0); if (fd >= 0) close((int)fd); return fd; }
	if (!strcmp(name, "socket-vsock")) { long fd = syscall(SYS_socket, 40, SOCK_STREAM, 0); if (fd >= 0) close((int)fd); return fd; }
	if (!strcmp(name, "personality-query")) return syscall(SYS_personality, 0xffffffffUL) < 0 ? -1 : 0;
	if (!strcmp(name, "personality-bad")) return syscall(SYS_personality, 0x0400000UL /* ADDR_COMPAT_LAYOUT: not allowed */);
	if (!strcmp(name, "clone-newns")) {
		long r = syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
		if (r == 0) _exit(0);
		if (r > 0) waitpid((pid_t)r, NULL, 0);
		return r;
	}
	if (!strcmp(name, "clone3")) return syscall(435 /* clone3 */, NULL, 0);
	if (!strcmp(name, "unshare")) return syscall(SYS_unshare, CLONE_NEWUTS);
	if (!strcmp(name, "mount")) return syscall(SYS_mount, "none", "/nonexistent-probe", "tmpfs", 0, NULL);
	if (!strcmp(name, "umount2")) return syscall(SYS_umount2, "/nonexistent-probe", 0);
	if (!strcmp(name, "keyctl")) return syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -1 /* thread keyring */, 0);
	if (!strcmp(name, "add_key")) return syscall(SYS_add_key, "nsx-no-such-type", "d", "x", 1, -2);
	if (!strcmp(name, "request_key")) return syscall(SYS_request_key, "nsx-no-such-type", "d", NULL, 0);
	if (!strcmp(name, "ptrace-init")) return syscall(SYS_ptrace, PTRACE_ATTACH, 1, NULL, NULL);
	if (!strcmp(name, "kexec_load")) return syscall(SYS_kexec_load, 0, 0, NULL, 0);
	if (!strcmp(name, "open_by_handle_at")) return syscall(SYS_open_by_handle_at, -1, NULL, 0);
	if (!strcmp(name, "bpf")) return syscall(SYS_bpf, 5 /* BPF_PROG_LOAD */, NULL, 0);
	if (!strcmp(name, "perf_event_open")) return syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
	if (!strcmp(name, "setns")) return syscall(SYS_setns, -1, 0);
	if (!strcmp(name, "chroot")) return syscall(SYS_chroot, "/nonexistent-probe");
	if (!strcmp(name, "pivot_root")) return syscall(SYS_pivot_root, "/nonexistent-probe", "/nonexistent-probe");
	if (!strcmp(name, "syslog")) return syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	if (!strcmp(name, "reboot")) return syscall(SYS_reboot, 0, 0, 0, NULL);
	if (!strcmp(name, "swapon")) return syscall(SYS_swapon, "/nonexistent-probe", 0);
	if (!strcmp(name, "acct")) return syscall(SYS_acct, "/nonexistent-probe");
	if (!strcmp(name, "settimeofday")) return syscall(SYS_settimeofday, NULL, NULL);
	if (!strcmp(name, "finit_module")) return syscall(SYS_finit_module, -1, "", 0);
	if (!strcmp(name, "iopl")) return syscall(SYS_iopl, 4);
	if (!strcmp(name, "kcmp")) return syscall(SYS_kcmp, 1, 1, 0, 0, 0);
	if (!strcmp(name, "userfaultfd")) { long fd = syscall(SYS_userfaultfd, 0); if (fd >= 0) close((int)fd); return fd; }
	if (!strcmp(name, "mknod-null")) { long r = syscall(SYS_mknodat, AT_FDCWD, "/tmp/probe-verdict-null", S_IFCHR | 0600, makedev(1, 3)); if (r == 0) unlink("/tmp/probe-verdict-null"); return r; }
	if (!strcmp(name, "fchmodat2")) return syscall(452 /* fchmodat2, Linux 6.6: newer than the profile */, -1, "", 0, 0);
	if (!strcmp(name, "mseal")) return syscall(462 /* mseal, Linux 6.10 */, 0, 0, 0);
	errno = 0;
	return -2;
}

static const char *const VERDICT_LIST[] = {
	"getpid", "openat", "socket-inet", "socket-vsock", "personality-query", "personality-bad", "clone-newns", "clone3",
	"unshare", "mount", "umount2", "keyctl", "add_key", "request_key", "ptrace-init", "kexec_load", "open_by_handle_at",
	"bpf", "perf_event_open", "setns", "chroot", "pivot_root", "syslog", "reboot", "swapon", "acct", "settimeofday",
	"finit_module", "iopl", "kcmp", "userfaultfd", "mknod-null", "fchmodat2", "mseal", NULL,
};

static int verdicts(int argc, char **argv)
{
	const char *const *list = argc > 2 ? (const char *const *)argv + 2 : VERDICT_LIST;
	for (; *list; list++) {
		errno = 0;
		long r = verdict_call(*list);
		if (r == -2 && errno == 0) {
			printf("%s unknown\n", *list);
			continue;
		}
		report(*list, r < 0 ? -1 : 0);
	}
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: probe CHECK [ARG]\n");
		return 2;
	}
	const char *c = argv[1];
	if (!strcmp(c, "mount"))
		return report("mount", mount("tmpfs", "/tmp", "tmpfs", 0, NULL));
	if (!strcmp(c, "remount-root"))
		return report("remount-root", mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL));
	if (!strcmp(c, "module"))
		return report("module", (int)syscall(SYS_finit_module, -1, "", 0));
	if (!strcmp(c, "sysctl"))
		return report("sysctl", open("/proc/sys/kernel/domainname", O_WRONLY));
	if (!strcmp(c, "write") && argc > 2)
		return report("write", open(argv[2], O_WRONLY));
	if (!strcmp(c, "read") && argc > 2) {
		int fd = open(argv[2], O_RDONLY);
		char buf[64];
		if (fd < 0)
			return report("read", -1);
		ssize_t n = read(fd, buf, sizeof(buf));
		printf("read %zd\n", n);
		return 0;
	}
	if (!strcmp(c, "exe-write"))
		return report("exe-write", open("/proc/1/exe", O_WRONLY));
	if (!strcmp(c, "exe-open"))
		return report("exe-open", open("/proc/1/exe", O_PATH));
	if (!strcmp(c, "ptrace-init"))
		return report("ptrace-init", (int)ptrace(PTRACE_ATTACH, 1, NULL, NULL));
	if (!strcmp(c, "mknod"))
		return report("mknod", mknod("/tmp/probe-null", S_IFCHR | 0600, makedev(1, 3)));
	if (!strcmp(c, "fds"))
		return fds();
	if (!strcmp(c, "syscalls"))
		return verdicts(argc, argv);
	if (!strcmp(c, "syscall-loop") && argc > 2) {
		/* N getppid(2) through syscall(2), for bench/seccomp.sh: the filter runs on each. */
		long n = atol(argv[2]);
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
		clock_gettime(CLOCK_MONOTONIC, &b);
		double ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)n;
		printf("syscall-loop %ld %.1f ns\n", n, ns);
		return 0;
	}
	if (!strcmp(c, "nnp")) {
		printf("nnp %d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
		return 0;
	}
	if (!strcmp(c, "alloc") && argc > 2)
		return alloc(atol(argv[2]));
	if (!strcmp(c, "forkbomb"))
		return forkbomb();
	if (!strcmp(c, "orphans"))
		return orphans(argc > 2 ? atoi(argv[2]) : 5);
	if (!strcmp(c, "exit") && argc > 2)
		return atoi(argv[2]);
	if (!strcmp(c, "kill-self") && argc > 2) {
		signal(atoi(argv[2]), SIG_DFL);
		kill(getpid(), atoi(argv[2]));
		pause();
		return 1;
	}
	if (!strcmp(c, "wait-signal")) {
		/* Print the first signal received; for the forwarding test. */
		sigset_t set;
		sigfillset(&set);
		sigprocmask(SIG_BLOCK, &set, NULL);
		printf("ready\n");
		int sig;
		sigwait(&set, &sig);
		printf("signal %d\n", sig);
		return 0;
	}
	fprintf(stderr, "probe: unknown check %s\n", c);
	return 2;
}
