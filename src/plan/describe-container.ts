import {capabilityName} from '../proc/capabilities.js'
import type {Op} from './ops.js'

type ContainerOp = Extract<Op, {op: `ctr-${string}` | `cap-${string}` | 'no-new-privs' | 'close-fds'}>

const caps = (list: number[]) => (list.length === 0 ? 'none' : list.map((c) => capabilityName(c).replace(/^CAP_/, '').toLowerCase()).join(','))

/** --dry-run lines of nsx run's container ops (native/ops-supervisor.c, ops-rootfs.c, ops-tty.c, ops-init.c, ops-payload.c). */
export function describeContainerOp(op: ContainerOp): {action: string; needs: string} {
  switch (op.op) {
    case 'ctr-cgroup-fd':
      return {action: `open the cgroup ${op.path}: the init is born in it (clone3 CLONE_INTO_CGROUP)`, needs: 'write access to the cgroup'}
    case 'ctr-cleanup-cgroup':
      return {action: `after the container ends, remove the cgroup ${op.path}`, needs: '-'}
    case 'ctr-pid-ns':
      return {action: op.path === 'host' ? "the init stays in the host's pid namespace (--pid host)" : `the init joins the pid namespace ${op.path} (--pid container:NAME)`, needs: 'root'}
    case 'ctr-cleanup-path':
      return {action: `after the container ends, remove ${op.path}`, needs: '-'}
    case 'ctr-exit-hook':
      return {action: `after the container ends, run ${op.path} (CNI DEL of its networks, its network namespace removed)`, needs: 'root'}
    case 'ctr-exit-hook-bg':
      return {action: `after the container ends, start ${op.path} without waiting for it (CNI DEL of its networks, its network namespace removed)`, needs: 'root'}
    case 'ctr-net-hook':
      return {action: `once the init has its network namespace, run ${op.path} with its pid (the user-mode network stack: pasta or slirp4netns) and wait for it`, needs: '-'}
    case 'ctr-net-ready':
      return {action: 'the network namespace is made: wait until the supervisor has started its user-mode network stack', needs: '-'}
    case 'ctr-net-wait-fd':
      return {action: `open ${op.path}, the CNI ADD's status (it may still run)`, needs: '-'}
    case 'ctr-net-wait':
      return {action: "wait until the CNI ADD has ended (its status file's lock); the command runs only if it succeeded", needs: '-'}
    case 'ctr-log':
      return {action: `log the container's stdout and stderr to ${op.path} (docker's json-file; rotated past ${op.maxSize} bytes, ${op.maxFiles} file(s) kept)`, needs: '-'}
    case 'ctr-log-none':
      return {action: "relay the container's stdout and stderr (attach, a foreground run's terminal) and keep no log (log driver none)", needs: '-'}
    case 'ctr-log-tee':
      return {action: "relay the logged output on to nsx's stdout and stderr (a foreground run)", needs: '-'}
    case 'ctr-restart':
      return {action: `restart the container when it ends (${op.policy}${op.maxRetries ? `, at most ${op.maxRetries} times` : ''}), with a back-off, unless ${op.stopFile} exists`, needs: '-'}
    case 'ctr-health':
      return {action: `run the healthcheck (${op.probe}, nsx exec's plan) ${op.intervalMs} ms after the start and each end, kill it past ${op.timeoutMs} ms, ${op.retries} failure(s) in a row after a start period of ${op.startPeriodMs} ms: unhealthy; results in ${op.state}`, needs: '-'}
    case 'ctr-attach-socket':
      return {action: `listen on ${op.dir}/attach.sock for nsx attach: the container's output, its terminal's input and size`, needs: '-'}
    case 'ctr-attach-client':
      return {action: `fd ${op.fd}, nsx start -a's socket, is an attached client from the start (no output said before it listens)`, needs: '-'}
    case 'ctr-exit-file':
      return {action: `when the command ends, record its exit code and the time in ${op.path} (the container is kept)`, needs: '-'}
    case 'ctr-ready-fd':
      return {action: `keep fd ${op.fd} open until the command is exec'd (tells the starter it runs)`, needs: '-'}
    case 'ctr-userns': {
      const m = (x: {inside: number; outside: number; count: number}[]) => x.map((y) => `${y.inside}:${y.outside}:${y.count}`).join(',')
      return {action: `the init gets new user and pid namespaces; uid map ${m(op.uidMap)}, gid map ${m(op.gidMap)}, setgroups ${op.setgroups}`, needs: 'root for a range; anyone for their own ids'}
    }
    case 'ctr-idmap-root':
      return {action: `the supervisor will mount the root in the init's mount namespace: ${op.lowerDirs.length} layer(s) idmapped to the container's user namespace, the overlay over them on ${op.target}`, needs: 'root'}
    case 'ctr-become-root':
      return {action: "become the container's root (uid and gid 0 in its user namespace), the host paths being opened", needs: 'CAP_SETUID, CAP_SETGID in the user namespace'}
    case 'ctr-rootless':
      return {action: 'rootless: overlay with userxattr, device nodes bound from the host', needs: '-'}
    case 'ctr-supervise':
      return {
        action: `fork the container's init (PID 1 of the new pid namespace, killed if nsx dies); this process supervises: forwards signals, cleans up, exits with the command's status; pids in ${op.pidsFile}`,
        needs: '-',
      }
    case 'ctr-rootfs':
      return {action: `mount an overlay of ${op.lowerDirs.length} read-only layer(s), upper ${op.upper}, on ${op.target}`, needs: 'CAP_SYS_ADMIN over the mount namespace'}
    case 'ctr-bind':
      return {action: `bind ${op.source} on ${op.target} in the container${op.readOnly ? ', read-only' : ''} (resolved inside its root)`, needs: 'CAP_SYS_ADMIN over the mount namespace'}
    case 'ctr-proc':
      return {action: "mount a fresh procfs on the container's /proc", needs: 'CAP_SYS_ADMIN over the mount and pid namespaces'}
    case 'ctr-sys':
      return {action: "mount sysfs read-only on the container's /sys", needs: 'CAP_SYS_ADMIN over the network namespace'}
    case 'ctr-dev':
      return {action: 'a tmpfs /dev: null zero full random urandom tty, devpts (ptmx), shm, mqueue', needs: 'CAP_MKNOD'}
    case 'ctr-hostname':
      return {action: `set the hostname to ${op.name}`, needs: 'CAP_SYS_ADMIN over the uts namespace'}
    case 'ctr-loopback':
      return {action: 'bring lo up in the new network namespace', needs: 'CAP_NET_ADMIN'}
    case 'ctr-pivot':
      return {action: 'pivot_root into the container root and detach the old root', needs: 'CAP_SYS_ADMIN over the mount namespace'}
    case 'ctr-mask':
      return {action: `hide ${op.path}`, needs: 'CAP_SYS_ADMIN over the mount namespace'}
    case 'ctr-readonly':
      return {action: `make ${op.path} read-only`, needs: 'CAP_SYS_ADMIN over the mount namespace'}
    case 'ctr-tty':
      return {action: `the supervisor will relay a pseudo-terminal${op.stdin ? ' and its stdin' : ''} (its terminal in raw mode, window size kept)`, needs: '-'}
    case 'ctr-pty':
      return {action: "open a pseudo-terminal of the container's devpts; send its master to the supervisor", needs: '-'}
    case 'ctr-pty-attach':
      return {action: 'new session; the pseudo-terminal becomes the controlling terminal, stdin, stdout and stderr', needs: '-'}
    case 'ctr-init':
      return {action: 'fork the command; stay as PID 1: reap zombies, forward signals, report its status', needs: '-'}
    case 'ctr-stdin-null':
      return {action: 'stdin from /dev/null (no -i)', needs: '-'}
    case 'ctr-workdir':
      return {action: `chdir ${op.path} (created if missing)`, needs: '-'}
    case 'cap-bound':
      return {action: `bounding set: ${caps(op.caps)}`, needs: 'CAP_SETPCAP'}
    case 'cap-set':
      return {action: `effective and permitted: ${caps(op.caps)}; inheritable and ambient empty`, needs: '-'}
    case 'ctr-groups':
      return {action: `supplementary groups: ${op.gids.length > 0 ? op.gids.join(',') : 'none'}`, needs: 'CAP_SETGID'}
    case 'no-new-privs':
      return {action: 'set no_new_privs: setuid binaries and file capabilities grant nothing', needs: '-'}
    case 'close-fds':
      return {action: 'close every fd above 2', needs: '-'}
    case 'ctr-cgroupfs': {
      const m = op.mount
      const ro = op.readOnly ? ' read-only' : ''
      if (m.kind === 'symlink') return {action: `link ${m.path} -> ${m.target}`, needs: '-'}
      if (m.kind === 'remount-ro') return {action: `make the tmpfs on ${m.path} read-only`, needs: 'CAP_SYS_ADMIN over the mount namespace'}
      if (m.kind === 'tmpfs') return {action: `a tmpfs on ${m.path} for the cgroup hierarchies`, needs: 'CAP_SYS_ADMIN over the mount namespace'}
      if (m.kind === 'cgroup') return {action: `mount the ${m.controllers.join(',')} hierarchy${ro} on ${m.path}: its root is the container's cgroup (cgroup namespace)`, needs: 'CAP_SYS_ADMIN (host)'}
      return {action: `mount the cgroup2 tree${ro} on ${m.path}: its root is the container's cgroup (cgroup namespace)`, needs: 'CAP_SYS_ADMIN over the cgroup namespace'}
    }
    case 'ctr-init-title':
      return {action: `the init's command line reads nsx-init and its environment is the container's (${op.envFile}), not nsx's`, needs: 'CAP_SYS_RESOURCE (else the init blanks its arguments)'}
    case 'ctr-init-creds':
      return {
        action: `after forking the command the init keeps only its restrictions: capabilities ${caps(op.caps)}, uid ${op.uid}, gid ${op.gid}${op.groups ? `, groups ${op.groups.length > 0 ? op.groups.join(',') : 'none'}` : ''}, no_new_privs${op.seccomp ? ', the seccomp filter' : ''}`,
        needs: 'CAP_SETUID, CAP_SETGID, CAP_SETPCAP',
      }
    case 'ctr-term-grace':
      return {action: `a SIGTERM to nsx run is passed on; ${op.seconds} s later the container is killed (SIGKILL to its init) if still running`, needs: '-'}
    case 'ctr-exec':
      return {action: `exec ${op.argv.join(' ')} (searched in the container's PATH)`, needs: 'execute permission'}
  }
}
