import type {Op, Plan} from './ops.js'
import {describeContainerOp} from './describe-container.js'
import type {NsType} from '../ns/types.js'
import {describeUnshareOp} from './unshare-ops.js'
import {describeSecurityOp, isSecurityOp} from './security-ops.js'

/** One step of a plan as --dry-run shows it: what it does and the privilege it needs. */
export interface StepDescription {
  step: number
  op: string
  /** The encoded op, as the executor receives it. */
  args: string[]
  action: string
  needs: string
}

const OWNER = 'CAP_SYS_ADMIN in the user namespace that owns it'

function setnsNeeds(ns: NsType): string {
  if (ns === 'user') return 'CAP_SYS_ADMIN in the user namespace entered (not re-entering our own)'
  if (ns === 'mnt') return `${OWNER}; CAP_SYS_CHROOT and CAP_SYS_ADMIN in our own`
  return OWNER
}

/** Walks the plan keeping track of where namespaces come from, so each line names its target. */
export function describePlan(plan: Plan, encode: (op: Op) => string[]): StepDescription[] {
  let target = 'the target'
  const files = new Map<NsType, string>()
  return plan.ops.map((op, i) => {
    const [name, ...args] = encode(op)
    const d = describeOp(op)
    return {step: i + 1, op: name, args, ...d}
  })

  function source(ns: NsType): string {
    return files.get(ns) ?? target
  }

  function describeOp(op: Op): {action: string; needs: string} {
    switch (op.op) {
      case 'pin':
        target = `pid ${op.pid}`
        return {action: `pin process ${op.pid} with a pidfd; refuse if its start time is no longer ${op.startTime}`, needs: '-'}
      case 'pin-thread':
        target = `thread ${op.tid}`
        return {action: `pin thread ${op.tid} with a thread pidfd; refuse if its start time is no longer ${op.startTime}`, needs: 'Linux 6.9 (PIDFD_THREAD)'}
      case 'pin-check':
        return {action: `check that ${target.replace(/^pid /, 'process ')} is still alive (its /proc paths were its own)`, needs: '-'}
      case 'nsfd':
        files.set(op.ns, op.path)
        return {action: `open ${op.path}, which must be a ${op.ns} namespace`, needs: 'read access to the file'}
      case 'nsfd-pinned':
        return {action: `open the ${op.ns} namespace file of ${target} now, for a setns after the user namespace`, needs: 'ptrace-read access to the target (as root on the host)'}
      case 'net-socket':
        files.set('net', `socket fd ${op.fd} of ${target}`)
        return {action: `take the network namespace of socket fd ${op.fd} of ${target}`, needs: 'ptrace-attach access to the target (pidfd_getfd)'}
      case 'user-parent':
        files.set('user', `the parent user namespace of ${source('user')}`)
        return {action: `take the parent of the user namespace of ${source('user')} instead`, needs: 'the parent visible from our user namespace'}
      case 'setns':
        return {action: `enter the ${op.ns} namespace of ${source(op.ns)} (unless entered already)`, needs: setnsNeeds(op.ns)}
      case 'setns-try':
        return {action: `try to enter the ${op.ns} namespace of ${source(op.ns)}; a refusal is not fatal (retried after the user namespace, or one we are in already)`, needs: setnsNeeds(op.ns)}
      case 'unshare':
        return {
          action: `unshare new ${op.ns.join(', ')} namespace${op.ns.length > 1 ? 's' : ''}`,
          needs: op.ns.length === 1 && op.ns[0] === 'user' ? '- (unprivileged user namespaces)' : 'CAP_SYS_ADMIN (or a new user namespace first)',
        }
      case 'release-target':
        return {action: 'close the pidfd and namespace files: the command keeps nothing of nsx', needs: '-'}
      case 'open-root':
        return {action: `open ${op.path} as the future root directory`, needs: 'ptrace-read access to the target for /proc/PID/root'}
      case 'open-wd':
        return {action: `open ${op.path} as the future working directory`, needs: 'ptrace-read access to the target for /proc/PID/cwd'}
      case 'chroot':
        return {action: 'chroot into that root directory, then chdir /', needs: 'CAP_SYS_CHROOT'}
      case 'chdir-fd':
        return {action: 'chdir into that working directory', needs: 'search permission'}
      case 'exec-chdir':
        return {action: `chdir ${op.path} (inside the namespaces and root; a failure is 126)`, needs: 'search permission'}
      case 'chdir':
        return {action: `chdir ${op.path} (inside the namespaces and root)`, needs: 'search permission'}
      case 'propagation':
        return {action: `make every mount under ${op.path} ${op.mode} (recursively)`, needs: 'CAP_SYS_ADMIN over the mount namespace'}
      case 'mount-proc':
        return {action: `mount a new proc filesystem on ${op.path}, showing the current pid namespace`, needs: 'CAP_SYS_ADMIN over the mount and pid namespaces'}
      case 'setgroups-try':
        return {action: 'drop supplementary groups (a refusal is tolerated until the second try)', needs: 'CAP_SETGID'}
      case 'setgroups':
        return {action: 'drop supplementary groups', needs: 'CAP_SETGID'}
      case 'setgid':
        return {action: `set the gid to ${op.gid}`, needs: 'CAP_SETGID'}
      case 'setuid':
        return {action: `set the uid to ${op.uid}`, needs: 'CAP_SETUID'}
      case 'keep-caps':
        return {action: 'raise the permitted capabilities to inheritable and ambient, so the command keeps them', needs: '-'}
      case 'cgroup-open':
        return {action: `open ${op.path}`, needs: 'write access to the cgroup'}
      case 'cgroup-join':
        return {action: 'move this process into the cgroup(s) opened', needs: 'write access to cgroup.procs'}
      case 'env-from':
        return {action: `replace the environment with ${op.path}`, needs: 'ptrace-read access to the target'}
      case 'setenv':
        return {action: `set ${op.name}=${op.value}`, needs: '-'}
      case 'unsetenv':
        return {action: `unset ${op.name}`, needs: '-'}
      case 'netns-new':
        return {action: `make a network namespace pinned at ${op.path} (a bind mount), staying in ours`, needs: 'CAP_SYS_ADMIN'}
      case 'cni-chain':
        return {action: 'start a chain of CNI plugins (no previous result)', needs: '-'}
      case 'cni-add':
        return {action: `run the CNI plugin ${op.plugin} with ${op.conf} and the chain's previous result on stdin, its result to ${op.out}`, needs: 'CAP_NET_ADMIN'}
      case 'cni-status':
        return {action: `record the ADD's outcome in ${op.path}, locked until it has ended`, needs: '-'}
      case 'cni-background':
        return {action: `fork: this process exits 0, the rest runs in a session of its own (stderr to ${op.log})`, needs: '-'}
      case 'cni-done':
        return {action: "write ok to the ADD's status file", needs: '-'}
      case 'end':
        return {action: 'exit 0', needs: '-'}
      case 'fork':
        return {action: 'fork: the child joins the pid namespace; the parent waits and passes on its exit status', needs: '-'}
      case 'exec':
        return {action: `exec ${op.argv.join(' ')}`, needs: 'execute permission'}
      case 'exec-shell':
        return {action: 'exec $SHELL (or /bin/sh) as a login shell', needs: 'execute permission'}
      case 'env-clear':
        return {action: 'empty the environment', needs: '-'}
      case 'exec-pty':
        return {action: `fork with a pseudo-terminal of the container's devpts as the child's terminal; the parent relays its output${op.stdin ? ' and our input' : ''} and passes on its exit status`, needs: '-'}
      case 'exec-pty-size':
        return {action: `take the pseudo-terminal's window size from fd ${op.fd} (rows and columns as they come), not from our terminal`, needs: '-'}
      case 'exec-detach':
        return {action: 'fork: the child goes on in a new session (stdio on /dev/null); the parent returns once it is exec\'d', needs: '-'}
      case 'die-with-parent':
        return {action: 'die with the parent (PR_SET_PDEATHSIG SIGKILL): killing nsx ends the session', needs: '-'}
      case 'debug-root':
        return {
          action: `in our own mount namespace, a new root: ${op.lowerDirs.length === 0 ? "the host's /usr, /bin, /lib*, /etc, /opt read-only" : `${op.lowerDirs.length} layer(s) under an overlay with a tmpfs upper`}, the host's /dev, a fresh /proc of the target's pid namespace, /sys, a tmpfs /tmp, the target's root at /target (${op.writable ? 'writable' : 'read-only'}); pivot_root into it`,
          needs: "CAP_SYS_ADMIN and CAP_SYS_CHROOT over the target's mount namespace and ours",
        }
      case 'debug-session':
        return {action: "unshare a pid namespace nested in the target's and fork its first process: when it ends, every process of the session is killed", needs: 'CAP_SYS_ADMIN'}
      case 'exec-run':
        return {action: `close every fd but stdin, stdout and stderr, then exec ${op.argv.join(' ')}`, needs: 'execute permission'}
      case 'helper-start':
      case 'helper-map':
      case 'map-write':
      case 'setgroups-write':
      case 'timens-offset':
      case 'persist':
      case 'helper-commit':
      case 'fork-wait':
      case 'proc-private':
      case 'forward-signals':
      case 'env-keep':
        return describeUnshareOp(op)
      default:
        return isSecurityOp(op) ? describeSecurityOp(op) : describeContainerOp(op)
    }
  }
}
