/*
 * Filesystem ops: root and working directory, mount propagation, procfs.
 * Directories are opened by open-root/open-wd before the mount namespace is
 * entered (paths such as /proc/PID/root only mean the target's root from outside),
 * and used by chroot/chdir-fd afterwards, as nsenter does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec.h"

static int open_dir(const char *path, const char *what)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		die_errno(EXIT_NSX_FAILURE, "open %s %s", what, path);
	return fd;
}

static void op_open_root(struct exec_state *st, char **args, int nargs)
{
	(void)nargs;
	if (st->root_fd >= 0)
		close(st->root_fd);
	st->root_fd = open_dir(args[0], "root directory");
}

static void op_open_wd(struct exec_state *st, char **args, int nargs)
{
	(void)nargs;
	if (st->wd_fd >= 0)
		close(st->wd_fd);
	st->wd_fd = open_dir(args[0], "working directory");
}

static void op_chroot(struct exec_state *st, char **args, int nargs)
{
	(void)args, (void)nargs;
	if (st->root_fd < 0)
		die(EXIT_NSX_FAILURE, "invalid plan: chroot without open-root");
	if (fchdir(st->root_fd) < 0)
		die_errno(EXIT_NSX_FAILURE, "chdir to the new root");
	if (chroot(".") < 0)
		die_errno(EXIT_NSX_FAILURE, "chroot");
	if (chdir("/") < 0)
		die_errno(EXIT_NSX_FAILURE, "chdir /");
	close(st->root_fd);
	st->root_fd = -1;
}

static void op_chdir_fd(struct exec_state *st, char **args, int nargs)
{
	(void)args, (void)nargs;
	if (st->wd_fd < 0)
		die(EXIT_NSX_FAILURE, "invalid plan: chdir-fd without open-wd");
	if (fchdir(st->wd_fd) < 0)
		die_errno(EXIT_NSX_FAILURE, "chdir to the working directory");
	close(st->wd_fd);
	st->wd_fd = -1;
}

static void op_chdir(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	if (chdir(args[0]) < 0)
		die_errno(EXIT_NSX_FAILURE, "chdir %s", args[0]);
}

static void op_propagation(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	unsigned long mode;
	if (strcmp(args[0], "private") == 0)
		mode = MS_PRIVATE;
	else if (strcmp(args[0], "slave") == 0)
		mode = MS_SLAVE;
	else if (strcmp(args[0], "shared") == 0)
		mode = MS_SHARED;
	else
		die(EXIT_NSX_FAILURE, "invalid plan: unknown propagation '%s'", args[0]);
	if (mount("none", args[1], NULL, MS_REC | mode, NULL) < 0)
		die_errno(EXIT_NSX_FAILURE, "make %s %s", args[1], args[0]);
}

/* procfs shows the pid namespace of the mounting process: run this after fork. */
static void op_mount_proc(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	if (mount("proc", args[0], "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		die_errno(EXIT_NSX_FAILURE, "mount proc on %s", args[0]);
}

void pivot_here(void)
{
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		die_errno(EXIT_NSX_FAILURE, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		die_errno(EXIT_NSX_FAILURE, "detach the old root");
	if (chdir("/") < 0)
		die_errno(EXIT_NSX_FAILURE, "chdir /");
}

const struct op ops_fs[] = {
	{"open-root", 1, op_open_root, "PATH: open the future root directory now"},
	{"open-wd", 1, op_open_wd, "PATH: open the future working directory now"},
	{"chroot", 0, op_chroot, "chroot to the open-root directory, chdir /"},
	{"chdir-fd", 0, op_chdir_fd, "chdir to the open-wd directory"},
	{"chdir", 1, op_chdir, "PATH: chdir (resolved in the current root)"},
	{"propagation", 2, op_propagation, "MODE PATH: recursive mount propagation (private|slave|shared)"},
	{"mount-proc", 1, op_mount_proc, "PATH: mount a new procfs of the current pid namespace"},
	{NULL, 0, NULL, NULL},
};
