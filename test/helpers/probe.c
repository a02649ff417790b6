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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
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
