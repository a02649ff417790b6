import type {NsType} from '../ns/types.js'
import type {Op, Plan} from '../plan/ops.js'
import type {CgroupSetup} from './cgroups.js'
import {ETC_TARGETS, EtcFile} from './etc-files.js'
import {MASKED_PATHS, READONLY_PATHS, RunSpec} from './spec.js'
import {securityOps} from '../security/plan.js'

/** Where a container's files are (ROOT/run/<name>/...), and what the supervisor removes. */
export interface ContainerPaths {
  dir: string
  upper: string
  work: string
  rootfs: string
  env: string
  pids: string
  /** The layer pin, removed with the container. */
  pin: string
  /** Where the supervisor records the exit code of a kept container. */
  exit: string
  /** A --rm container's exit record, beside its directory so it outlives it (wait reads it; sweepStale ages it out). */
  tombstone: string
  /** The container's name link (ROOT/names/NAME), removed with an --rm container. */
  nameLink?: string
  /** The network namespace the init joins (a bridge network's, src/network/; or another container's). */
  netns?: string
  /** Run by the supervisor once the container has ended: its network's teardown (CNI DEL). */
  exitHook?: string
  /** Run by the supervisor with the init's pid once it has its network namespace: a rootless container's user-mode network stack (src/network/rootless.ts). */
  netHook?: string
  /** --pid host ("host") or container:NAME (that container's /proc/PID/ns/pid): the pid namespace the init joins instead of a new one. */
  pidns?: string
  /** --ipc container:NAME: that container's /proc/PID/ns/ipc, which the init joins. */
  ipcns?: string
  /** The bridge network's CNI ADD status file (src/network/attach.ts): the init waits for the ADD there before its command runs. */
  netWait?: string
}

export function containerPaths(dir: string, pin: string, nameLink?: string): ContainerPaths {
  return {dir, upper: `${dir}/upper`, work: `${dir}/work`, rootfs: `${dir}/rootfs`, env: `${dir}/env`, pids: `${dir}/pids`, exit: `${dir}/exit`, tombstone: `${dir}.exit`, pin, nameLink}
}

/**
 * nsx run's plan, in the order runc and crun set a container up:
 *   supervisor (host): open the cgroups, register the cleanup, unshare pid, fork the init
 *     (born in its v2 cgroup when there is one: clone3 CLONE_INTO_CGROUP);
 *   init (PID 1): join the v1 cgroups, then new mnt/uts/ipc/net/cgroup namespaces (the cgroup
 *     namespace after joining, so its root is the container's cgroup), private propagation,
 *     overlay root, volumes, /proc, /dev, /sys, hostname, lo, environment, pivot_root,
 *     masked and read-only paths, then fork the command and stay as its init;
 *   command: stdin, working directory, bounding set, ids, capabilities, no_new_privs,
 *     fds closed, the seccomp filter, exec.
 * The security settings (src/security/plan.ts) slot in after the fork, after pivot_root,
 * before the privileges are dropped and last before exec.
 */
export function buildRunPlan(spec: RunSpec, lowerDirs: string[], paths: ContainerPaths, cgroups: CgroupSetup, opts: {readyFd?: number; seccompCache?: string; termGrace?: number; keep?: boolean; log?: {path: string; maxSize: number; maxFiles: number; tee?: boolean; none?: boolean}; attach?: boolean; attachClient?: number; restart?: {policy: 'on-failure' | 'always' | 'unless-stopped'; maxRetries: number}; health?: Extract<Op, {op: 'ctr-health'}>} = {}): Plan {
  const ops: Op[] = []
  const v1 = cgroups.places.filter((p) => p.version === 1)
  const v2 = cgroups.places.find((p) => p.version === 2)
  const sec = securityOps(spec.security, {v2Cgroup: v2?.dir, seccompCache: opts.seccompCache, userns: spec.userns !== undefined, workdir: spec.workdir})
  for (const p of v1) ops.push({op: 'cgroup-open', path: `${p.dir}/cgroup.procs`})
  if (v2) ops.push({op: 'ctr-cgroup-fd', path: v2.dir})
  // The spare ones too: nsx update may make them while the container runs (absent, they are skipped).
  for (const p of [...cgroups.places, ...(cgroups.spare ?? [])]) ops.push({op: 'ctr-cleanup-cgroup', path: p.dir})
  // A kept container (no --rm) keeps its directory for start, logs, inspect and commit; the supervisor records its exit.
  if (opts.keep) ops.push({op: 'ctr-exit-file', path: paths.exit})
  else {
    // A detached --rm container is gone when it ends: its code goes beside its directory for
    // wait (docker run --rm through the API waits with condition=removed, then reads it).
    if (opts.readyFd !== undefined) ops.push({op: 'ctr-exit-file', path: paths.tombstone})
    ops.push({op: 'ctr-cleanup-path', path: paths.dir}, {op: 'ctr-cleanup-path', path: paths.pin})
    if (paths.nameLink) ops.push({op: 'ctr-cleanup-path', path: paths.nameLink})
    // docker run --rm removes the container's anonymous volumes (volumes/<name>, above its _data) with it.
    for (const v of spec.volumes) if (v.anonymous && v.source !== '') ops.push({op: 'ctr-cleanup-path', path: v.source.replace(/\/_data$/, '')})
  }
  // In the foreground the teardown runs after the status is returned (it locks itself: rm, gc and
  // the next start wait for it); a detached container's supervisor waits for it (nsx stop does too).
  if (paths.exitHook) ops.push({op: opts.readyFd === undefined ? 'ctr-exit-hook-bg' : 'ctr-exit-hook', path: paths.exitHook})
  if (paths.netHook) ops.push({op: 'ctr-net-hook', path: paths.netHook})
  if (opts.readyFd !== undefined) ops.push({op: 'ctr-ready-fd', fd: opts.readyFd})
  if (opts.log?.none) ops.push({op: 'ctr-log-none'})
  else if (opts.log) ops.push({op: 'ctr-log', path: opts.log.path, maxSize: opts.log.maxSize, maxFiles: opts.log.maxFiles})
  // A foreground run is logged too (docker keeps logs of every container), its output relayed on.
  if (opts.log?.tee) ops.push({op: 'ctr-log-tee'})
  if (opts.attach) ops.push({op: 'ctr-attach-socket', dir: paths.dir})
  if (opts.attach && opts.attachClient !== undefined) ops.push({op: 'ctr-attach-client', fd: opts.attachClient})
  if (opts.restart) ops.push({op: 'ctr-restart', ...opts.restart, stopFile: `${paths.dir}/stop-requested`})
  // The healthcheck: the supervisor probes the container (native/ctr-health.c).
  if (opts.health) ops.push(opts.health)
  if (spec.tty) ops.push({op: 'ctr-tty', stdin: spec.interactive})
  if (spec.userns) {
    // The user and pid namespaces come with the init's clone, the pid one owned by the user one.
    if (spec.userns.rootless) ops.push({op: 'ctr-rootless'})
    else ops.push({op: 'ctr-idmap-root', lowerDirs, points: lowerDirs.map((_, i) => `${paths.dir}/lower/${i}`), upper: paths.upper, work: paths.work, target: paths.rootfs})
    ops.push({op: 'ctr-userns', uidMap: spec.userns.uidMap, gidMap: spec.userns.gidMap, setgroups: spec.userns.setgroups})
  } else if (paths.pidns) {
    ops.push({op: 'ctr-pid-ns', path: paths.pidns})
  } else {
    ops.push({op: 'unshare', ns: ['pid']})
  }
  ops.push(...sec.supervisor)
  ops.push({op: 'ctr-init-title', envFile: paths.env})
  if (opts.termGrace !== undefined) ops.push({op: 'ctr-term-grace', seconds: opts.termGrace})
  ops.push({op: 'ctr-supervise', pidsFile: paths.pids})
  ops.push(...sec.init)

  if (v1.length > 0) ops.push({op: 'cgroup-join'})
  // A bridge network's namespace was made before the start (its interfaces are added meanwhile: ctr-net-wait); another container's is shared.
  if (paths.netns) ops.push({op: 'nsfd', ns: 'net', path: paths.netns}, {op: 'setns', ns: 'net'})
  if (paths.netWait) ops.push({op: 'ctr-net-wait-fd', path: paths.netWait})
  if (paths.ipcns) ops.push({op: 'nsfd', ns: 'ipc', path: paths.ipcns}, {op: 'setns', ns: 'ipc'})
  // --uts host, --ipc host|container:NAME, --cgroupns host: that namespace is not the container's own.
  const ns = spec.namespaces ?? {}
  const own: NsType[] = ['mnt']
  if (ns.uts !== 'host') own.push('uts')
  if (ns.ipc !== 'host' && !paths.ipcns) own.push('ipc')
  if (spec.network !== 'host' && !paths.netns) own.push('net')
  if (ns.cgroupns !== 'host') own.push('cgroup')
  ops.push({op: 'unshare', ns: own})
  if (paths.netHook) ops.push({op: 'ctr-net-ready'})
  ops.push({op: 'propagation', mode: 'private', path: '/'})
  ops.push(...rootMountOps(spec, lowerDirs, paths))
  ops.push({op: 'env-from', path: paths.env})
  if (spec.userns && !spec.userns.rootless) ops.push({op: 'ctr-become-root'})
  ops.push({op: 'ctr-proc'}, {op: 'ctr-dev'}, {op: 'ctr-sys'})
  const cgroupfs = cgroups.cgroupfs ?? []
  for (const mount of cgroupfs) ops.push({op: 'ctr-cgroupfs', mount, readOnly: !spec.privileged})
  if (ns.uts !== 'host') ops.push({op: 'ctr-hostname', name: spec.hostname})
  if (spec.network !== 'host' && !spec.network.startsWith('container:')) ops.push({op: 'ctr-loopback'})
  ops.push({op: 'ctr-pivot'})
  // --sysctl: in the container's own namespaces, before /proc/sys is made read-only.
  for (const [name, value] of Object.entries(spec.sysctls ?? {})) ops.push({op: 'sysctl', name, value})
  if (!spec.privileged) {
    for (const p of MASKED_PATHS) ops.push({op: 'ctr-mask', path: p})
    for (const p of READONLY_PATHS) ops.push({op: 'ctr-readonly', path: p})
  }
  ops.push(...sec.afterPivot)
  if (spec.tty) ops.push({op: 'ctr-pty'})
  // tini's and docker-init's rule: the init holds the container's restrictions, nothing more.
  ops.push({op: 'ctr-init-creds', caps: spec.caps, uid: spec.uid, gid: spec.gid, groups: spec.userns?.setgroups === 'deny' ? undefined : spec.groups, seccomp: spec.security?.seccomp !== undefined})
  // The ADD (which runs while the root is set up) has finished, or the command does not run.
  if (paths.netWait) ops.push({op: 'ctr-net-wait'})
  ops.push({op: 'ctr-init'})

  if (spec.tty) ops.push({op: 'ctr-pty-attach'})
  else if (!spec.interactive) ops.push({op: 'ctr-stdin-null'})
  ops.push({op: 'ctr-workdir', path: spec.workdir})
  ops.push(...sec.beforeDrop)
  ops.push({op: 'cap-bound', caps: spec.caps})
  // setgroups is denied in a rootless user namespace (the kernel's rule for unprivileged maps).
  if (spec.userns?.setgroups !== 'deny') ops.push({op: 'ctr-groups', gids: spec.groups})
  ops.push({op: 'setgid', gid: spec.gid}, {op: 'setuid', uid: spec.uid})
  ops.push({op: 'cap-set', caps: spec.caps})
  ops.push({op: 'no-new-privs'}, {op: 'close-fds'})
  ops.push(...sec.last)
  ops.push({op: 'ctr-exec', argv: spec.argv})
  return {command: 'nsx run', ops}
}

/**
 * The container's root as its processes see it: the overlay on ROOT/run/<id>/rootfs, then the
 * generated /etc files (docker's order: first, so a volume on one of them wins; a spec made
 * without them, e.g. by a test, binds none), then the volumes and binds. A start's init mounts
 * these; `nsx cp` of a stopped container mounts the same in a namespace of its own.
 */
export function rootMountOps(spec: RunSpec, lowerDirs: string[], paths: Pick<ContainerPaths, 'dir' | 'upper' | 'work' | 'rootfs'>): Op[] {
  const ops: Op[] = [{op: 'ctr-rootfs', lowerDirs, upper: paths.upper, work: paths.work, target: paths.rootfs}]
  for (const [file, target] of spec.etc ? Object.entries(ETC_TARGETS) : [])
    if (!spec.etc.bind || spec.etc.bind.includes(file as EtcFile)) ops.push({op: 'ctr-bind', source: `${paths.dir}/${file}`, target, readOnly: false})
  for (const v of spec.volumes) ops.push({op: 'ctr-bind', source: v.source, target: v.target, readOnly: v.readOnly})
  return ops
}

/** The environment file the executor reads with env-from: NUL-separated NAME=VALUE entries (a bare NAME of Config.Env is one unset: left out). */
export function encodeEnv(env: readonly string[]): string {
  return env.filter((e) => e.indexOf('=') > 0).map((e) => `${e}\0`).join('')
}
