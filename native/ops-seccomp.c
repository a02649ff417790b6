/*
 * Seccomp ops for containers: compile a filter plan (made in TypeScript by
 * src/security/seccomp-plan.ts from a docker-format profile) with libseccomp, and
 * load it as the very last step before exec, after no_new_privs.
 *
 * FILTER TEXT (one argv word, lines separated by ';' or '\n')
 *   default ACTION              what a syscall without a rule gets
 *   arch NAME...                libseccomp architecture names (x86_64 x86 x32 ...)
 *   rule ACTION SYSCALL [COND...]
 *                               COND is aINDEX:OP:VALUE[:VALUE2], OP one of
 *                               ne lt le eq ge gt me (masked_eq: VALUE is the mask)
 *   ACTION: allow | log | kill | kill_process | trap | errno:N | trace:N
 *
 * Syscalls newer than every one the plan names (per architecture) get ENOSYS instead of
 * the default action, so a C library falls back to an older call rather than taking
 * EPERM as final (runc does the same with a stub in front of libseccomp's program). The
 * stub is prepended here to the program libseccomp exports, and the whole is loaded
 * with seccomp(2).
 *
 *   seccomp 2 TEXT CACHE  make TEXT's program now (in the container's init, so a failure
 *                         is cleaned up by the supervisor); loaded by seccomp-load.
 *                         CACHE ('-' for none) is a file of the program compiled before:
 *                         libseccomp takes ~12 ms for docker's profile, reading it back
 *                         ~20 us. Named by TEXT's hash (TypeScript), headed by the format
 *                         and libseccomp version; anything unexpected there and it is
 *                         compiled again and rewritten (atomically, best effort).
 *   seccomp-load 0        load the program (after no-new-privs, before exec)
 *   seccomp-check 2 TEXT CACHE  the same as seccomp, then print "ok INSTRUCTIONS", exit 0
 *   seccomp-dump 1 PID    for nsx inspect: stop PID briefly (PTRACE_SEIZE + INTERRUPT), read
 *                         its filters back (PTRACE_SECCOMP_GET_FILTER, needs CAP_SYS_ADMIN),
 *                         detach; print "filter INDEX HEX" per filter, newest first; exit 0,
 *                         or one line and exit 1
 */
#include <errno.h>
#include <stddef.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec.h"

#define MAX_ARCHES 8
#define X32_SYSCALL_BIT 0x40000000u

static struct sock_filter *compiled;
static size_t compiled_len;

static uint32_t parse_action(const char *s, int line)
{
	if (strcmp(s, "allow") == 0)
		return SCMP_ACT_ALLOW;
	if (strcmp(s, "log") == 0)
		return SCMP_ACT_LOG;
	if (strcmp(s, "kill") == 0)
		return SCMP_ACT_KILL_THREAD;
	if (strcmp(s, "kill_process") == 0)
		return SCMP_ACT_KILL_PROCESS;
	if (strcmp(s, "trap") == 0)
		return SCMP_ACT_TRAP;
	if (strncmp(s, "errno:", 6) == 0)
		return SCMP_ACT_ERRNO((uint16_t)parse_long(s + 6, "seccomp errno", 0, 4095));
	if (strncmp(s, "trace:", 6) == 0)
		return SCMP_ACT_TRACE((uint16_t)parse_long(s + 6, "seccomp trace value", 0, 65535));
	die(EXIT_NSX_FAILURE, "invalid seccomp filter: line %d: unknown action '%s'", line, s);
}

static uint64_t parse_u64(const char *s, int line)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end)
		die(EXIT_NSX_FAILURE, "invalid seccomp filter: line %d: bad value '%s'", line, s);
	return (uint64_t)v;
}

static struct scmp_arg_cmp parse_cond(char *s, int line)
{
	/* aINDEX:OP:VALUE[:VALUE2] */
	char *parts[4] = {0};
	int n = 0;
	for (char *save = NULL, *t = strtok_r(s, ":", &save); t && n < 4; t = strtok_r(NULL, ":", &save))
		parts[n++] = t;
	if (n < 3 || parts[0][0] != 'a' || parts[0][1] < '0' || parts[0][1] > '5' || parts[0][2])
		die(EXIT_NSX_FAILURE, "invalid seccomp filter: line %d: bad argument condition", line);
	static const struct {
		const char *name;
		enum scmp_compare op;
	} ops[] = {{"ne", SCMP_CMP_NE}, {"lt", SCMP_CMP_LT}, {"le", SCMP_CMP_LE}, {"eq", SCMP_CMP_EQ},
		   {"ge", SCMP_CMP_GE}, {"gt", SCMP_CMP_GT}, {"me", SCMP_CMP_MASKED_EQ}};
	struct scmp_arg_cmp c = {.arg = (unsigned)(parts[0][1] - '0')};
	size_t i;
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(parts[1], ops[i].name) == 0)
			break;
	if (i == sizeof(ops) / sizeof(ops[0]))
		die(EXIT_NSX_FAILURE, "invalid seccomp filter: line %d: unknown comparison '%s'", line, parts[1]);
	c.op = ops[i].op;
	c.datum_a = parse_u64(parts[2], line);
	c.datum_b = n > 3 ? parse_u64(parts[3], line) : 0;
	return c;
}

/* The ENOSYS stub: for each architecture, syscall numbers above the highest the plan names. */
static size_t build_stub(struct sock_filter *out, const uint32_t *arches, const int *max, int narch)
{
	size_t n = 0;
	out[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	/* Patched below: jumps to "done" are collected and fixed once the stub's length is known. */
	size_t done_jumps[MAX_ARCHES * 4], ndone = 0;
	size_t enosys_jumps[MAX_ARCHES * 4], nenosys = 0;
	int x32 = -1, x86_64 = -1;
	for (int i = 0; i < narch; i++) {
		if (arches[i] == SCMP_ARCH_X32)
			x32 = i;
		if (arches[i] == SCMP_ARCH_X86_64)
			x86_64 = i;
	}
	for (int i = 0; i < narch; i++) {
		if (i == x32 || max[i] < 0)
			continue; /* x32 shares AUDIT_ARCH_X86_64: handled in the x86_64 block */
		/* jeq ARCH ? next : skip this block (patched) */
		size_t jeq = n;
		out[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arches[i], 0, 0);
		out[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
		if (i == x86_64) {
			/* x32 calls carry X32_SYSCALL_BIT: compared with x32's highest (or left alone) */
			size_t jset = n;
			out[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, 0, 0);
			enosys_jumps[nenosys++] = n;
			out[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, (uint32_t)max[i], 0, 0);
			done_jumps[ndone++] = n;
			out[n++] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, 0);
			out[jset].jt = (uint8_t)(n - jset - 1);
			if (x32 >= 0 && max[x32] >= 0) {
				enosys_jumps[nenosys++] = n;
				out[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, (uint32_t)max[x32], 0, 0);
			}
			done_jumps[ndone++] = n;
			out[n++] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, 0);
		} else {
			enosys_jumps[nenosys++] = n;
			out[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, (uint32_t)max[i], 0, 0);
			done_jumps[ndone++] = n;
			out[n++] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, 0);
		}
		out[jeq].jf = (uint8_t)(n - jeq - 1);
	}
	/* An architecture without a block falls through to libseccomp's program. */
	done_jumps[ndone++] = n;
	out[n++] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, 0);
	size_t enosys = n;
	out[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
	size_t done = n;
	for (size_t j = 0; j < nenosys; j++)
		out[enosys_jumps[j]].jt = (uint8_t)(enosys - enosys_jumps[j] - 1);
	for (size_t j = 0; j < ndone; j++)
		out[done_jumps[j]].k = (uint32_t)(done - done_jumps[j] - 1);
	return n;
}

/* Compile TEXT into `compiled`; every problem is one line and exit 125. */
static void compile(const char *text)
{
	char *buf = strdup(text);
	if (!buf)
		die(EXIT_NSX_FAILURE, "out of memory");
	scmp_filter_ctx ctx = NULL;
	uint32_t def = 0;
	bool have_default = false, default_allows = false;
	uint32_t arches[MAX_ARCHES];
	int max[MAX_ARCHES];
	int narch = 0;
	int line = 0;
	for (char *lsave = NULL, *l = strtok_r(buf, ";\n", &lsave); l; l = strtok_r(NULL, ";\n", &lsave)) {
		line++;
		char *words[16];
		int nw = 0;
		for (char *wsave = NULL, *w = strtok_r(l, " ", &wsave); w; w = strtok_r(NULL, " ", &wsave)) {
			if (nw == 16)
				die(EXIT_NSX_FAILURE, "invalid seccomp filter: line %d: too many words", line);
			words[nw++] = w;
		}
		if (nw == 0)
			continue;
		if (strcmp(words[0], "default") == 0 && nw == 2 && !ctx) {
			def = parse_action(words[1], line);
			default_allows = def == SCMP_ACT_ALLOW || def == SCMP_ACT_LOG;
			have_default = true;
			ctx = seccomp_init(def);
			if (!ctx)
				die(EXIT_NSX_FAILURE, "seccomp_init failed");
			/* no_new_privs is the plan's own op; the native arch is added only if listed */
			seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
			seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
		} else if (strcmp(words[0], "arch") == 0 && ctx) {
			for (int i = 1; i < nw; i++) {
				uint32_t a = seccomp_arch_resolve_name(words[i]);
				if (a == 0)
					die(EXIT_NSX_FAILURE, "invalid seccomp filter: unknown architecture '%s'", words[i]);
				int rc = seccomp_arch_add(ctx, a);
				if (rc < 0 && rc != -EEXIST)
					die(EXIT_NSX_FAILURE, "seccomp: cannot add architecture %s: %s", words[i], strerror(-rc));
				if (narch == MAX_ARCHES)
					die(EXIT_NSX_FAILURE, "invalid seccomp filter: too many architectures");
				arches[narch] = a;
				max[narch++] = -1;
			}
		} else if (strcmp(words[0], "rule") == 0 && nw >= 3 && ctx) {
			uint32_t act = parse_action(words[1], line);
			int nr = seccomp_syscall_resolve_name(words[2]);
			if (nr == __NR_SCMP_ERROR)
				die(EXIT_NSX_FAILURE, "invalid seccomp filter: unknown syscall '%s'", words[2]);
			struct scmp_arg_cmp conds[6];
			int nc = 0;
			for (int i = 3; i < nw; i++) {
				if (nc == 6)
					die(EXIT_NSX_FAILURE, "invalid seccomp filter: line %d: too many conditions", line);
				conds[nc++] = parse_cond(words[i], line);
			}
			int rc = seccomp_rule_add_array(ctx, act, nr, (unsigned)nc, conds);
			if (rc < 0)
				die(EXIT_NSX_FAILURE, "seccomp: cannot add the rule for %s: %s", words[2], strerror(-rc));
			for (int i = 0; i < narch; i++) {
				int anr = seccomp_syscall_resolve_name_arch(arches[i], words[2]);
				if (anr > max[i])
					max[i] = anr; /* x32 numbers all carry X32_SYSCALL_BIT: still comparable */
			}
		} else {
			die(EXIT_NSX_FAILURE, "invalid seccomp filter: line %d: cannot parse '%s'", line, words[0]);
		}
	}
	if (!have_default)
		die(EXIT_NSX_FAILURE, "invalid seccomp filter: no default action");
	/* Export libseccomp's program through a memfd (libseccomp 2.5 writes to an fd). */
	int fd = (int)syscall(SYS_memfd_create, "nsx-seccomp", 1u /* MFD_CLOEXEC */);
	if (fd < 0)
		die_errno(EXIT_NSX_FAILURE, "seccomp: memfd_create");
	int rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0)
		die(EXIT_NSX_FAILURE, "seccomp: cannot export the filter: %s", strerror(-rc));
	off_t size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % (off_t)sizeof(struct sock_filter))
		die(EXIT_NSX_FAILURE, "seccomp: exported filter has a bad size");
	size_t prog_len = (size_t)size / sizeof(struct sock_filter);
	struct sock_filter stub[MAX_ARCHES * 8 + 4];
	size_t stub_len = default_allows ? 0 : build_stub(stub, arches, max, narch);
	compiled_len = stub_len + prog_len;
	if (compiled_len > BPF_MAXINSNS)
		die(EXIT_NSX_FAILURE, "seccomp: the filter has %zu instructions, more than the kernel's %d", compiled_len, BPF_MAXINSNS);
	compiled = calloc(compiled_len, sizeof(struct sock_filter));
	if (!compiled)
		die(EXIT_NSX_FAILURE, "out of memory");
	memcpy(compiled, stub, stub_len * sizeof(struct sock_filter));
	if (pread(fd, compiled + stub_len, (size_t)size, 0) != size)
		die_errno(EXIT_NSX_FAILURE, "seccomp: read back the filter");
	close(fd);
	seccomp_release(ctx);
	free(buf);
}

/* The cache file's first line: the format, and the libseccomp that compiled the program. */
static void cache_header(char *buf, size_t size)
{
	const struct scmp_version *v = seccomp_version();
	snprintf(buf, size, "nsx-seccomp 1 libseccomp %u.%u.%u\n", v->major, v->minor, v->micro);
}

static bool cache_read(const char *path)
{
	if (strcmp(path, "-") == 0)
		return false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	char header[128];
	cache_header(header, sizeof(header));
	size_t hlen = strlen(header);
	struct stat stt;
	bool ok = false;
	if (fstat(fd, &stt) == 0 && S_ISREG(stt.st_mode) && (size_t)stt.st_size > hlen &&
	    ((size_t)stt.st_size - hlen) % sizeof(struct sock_filter) == 0 &&
	    ((size_t)stt.st_size - hlen) / sizeof(struct sock_filter) <= BPF_MAXINSNS) {
		char *data = malloc((size_t)stt.st_size);
		if (data && read(fd, data, (size_t)stt.st_size) == stt.st_size && memcmp(data, header, hlen) == 0) {
			compiled_len = ((size_t)stt.st_size - hlen) / sizeof(struct sock_filter);
			compiled = calloc(compiled_len, sizeof(struct sock_filter));
			if (compiled) {
				memcpy(compiled, data + hlen, compiled_len * sizeof(struct sock_filter));
				ok = true;
			}
		}
		free(data);
	}
	close(fd);
	return ok;
}

/* Best effort: a cache that cannot be written only costs the next run a compile. */
static void cache_write(const char *path)
{
	if (strcmp(path, "-") == 0)
		return;
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid()) >= (int)sizeof(tmp))
		return;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	char header[128];
	cache_header(header, sizeof(header));
	size_t body = compiled_len * sizeof(struct sock_filter);
	bool ok = write(fd, header, strlen(header)) == (ssize_t)strlen(header) && write(fd, compiled, body) == (ssize_t)body;
	if (close(fd) < 0 || !ok || rename(tmp, path) < 0)
		unlink(tmp);
}

static void prepare(const char *text, const char *cache)
{
	if (cache_read(cache))
		return;
	compile(text);
	cache_write(cache);
}

static void op_seccomp(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	prepare(args[0], args[1]);
}

static void op_seccomp_check(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	prepare(args[0], args[1]);
	printf("ok %zu\n", compiled_len);
	exit(0);
}

static void op_seccomp_load(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)args, (void)nargs;
	if (!compiled)
		die(EXIT_NSX_FAILURE, "invalid plan: seccomp-load without seccomp");
	struct sock_fprog prog = {.len = (unsigned short)compiled_len, .filter = compiled};
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		die_errno(EXIT_NSX_FAILURE, "load the seccomp filter");
}

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif

static void op_seccomp_dump(struct exec_state *st, char **args, int nargs)
{
	(void)st, (void)nargs;
	pid_t pid = (pid_t)parse_long(args[0], "pid", 1, 4194304);
	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0)
		die_errno(1, "attach to pid %d", (int)pid);
	if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) < 0)
		die_errno(1, "stop pid %d", (int)pid);
	int status;
	while (waitpid(pid, &status, __WALL) < 0) {
		if (errno != EINTR)
			die_errno(1, "wait for pid %d", (int)pid);
	}
	/* Read everything first, print after the detach: the process is stopped only as long as needed. */
	struct sock_filter *progs[64];
	long lens[64];
	int n = 0, err = 0;
	for (; n < 64; n++) {
		long len = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)(long)n, NULL);
		if (len < 0) {
			err = errno;
			break;
		}
		progs[n] = calloc((size_t)len, sizeof(struct sock_filter));
		if (!progs[n] || ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)(long)n, progs[n]) != len) {
			err = errno ? errno : ENOMEM;
			break;
		}
		lens[n] = len;
	}
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
	/* ENOENT: past the last filter; EINVAL: the process has no filter (mode disabled or strict). */
	if (err != ENOENT && err != EINVAL && err != 0) {
		errno = err;
		die_errno(1, "read the seccomp filters of pid %d", (int)pid);
	}
	for (int i = 0; i < n; i++) {
		printf("filter %d ", i);
		const unsigned char *b = (const unsigned char *)progs[i];
		for (size_t j = 0; j < (size_t)lens[i] * sizeof(struct sock_filter); j++)
			printf("%02x", b[j]);
		printf("\n");
	}
	exit(0);
}

const struct op ops_seccomp[] = {
	{"seccomp", 2, op_seccomp, "FILTER CACHE: a seccomp filter (a docker profile made plan data), compiled with libseccomp or read from CACHE"},
	{"seccomp-load", 0, op_seccomp_load, "load the compiled seccomp filter (last, after no-new-privs)"},
	{"seccomp-dump", 1, op_seccomp_dump, "PID: print its seccomp filters (ptrace: stopped briefly), exit"},
	{"seccomp-check", 2, op_seccomp_check, "FILTER CACHE: as seccomp, then print \"ok INSTRUCTIONS\", exit 0"},
	{NULL, 0, NULL, NULL},
};
