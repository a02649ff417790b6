import type {NsType} from '../ns/types.js'

/**
 * The plan operations only `nsx unshare` uses, executed by native/ops-unshare.c.
 * They join the shared Op union (src/plan/ops.ts); their encoders and descriptions
 * live here so the shared files carry one line each for them.
 */
export type UnshareOp =
  /** Fork the outside helper, before unshare: it writes maps and binds namespace files from outside. */
  | {op: 'helper-start'}
  /** The helper writes our uid/gid map from outside (root), or runs newuidmap/newgidmap. */
  | {op: 'helper-map'; kind: 'uid' | 'gid'; mode: 'write' | 'newidmap'; text: string}
  /** Write our own /proc/self/uid_map or gid_map (a single id, allowed to anyone). */
  | {op: 'map-write'; kind: 'uid' | 'gid'; text: string}
  | {op: 'setgroups-write'; mode: 'allow' | 'deny'}
  | {op: 'timens-offset'; clock: 'monotonic' | 'boottime'; seconds: bigint}
  /** Queue a bind mount of our TYPE namespace on PATH, done once nothing else can fail. */
  | {op: 'persist'; ns: NsType; path: string}
  | {op: 'helper-commit'}
  /** Fork; the child carries on (PR_SET_PDEATHSIG signal when > 0), the parent persists and waits. */
  | {op: 'fork-wait'; killSignal: number}
  | {op: 'proc-private'; path: string}
  /** A later fork-wait passes SIGINT and SIGTERM on to the child instead of blocking them. */
  | {op: 'forward-signals'}
  /** Clear the environment but for these variables (none: clear it all). */
  | {op: 'env-keep'; names: string[]}

export type UnshareOpName = UnshareOp['op']

const mapArg = (text: string) => text.trim().split('\n').join(',')

type Encoder<N extends UnshareOpName> = (op: Extract<UnshareOp, {op: N}>) => string[]

export const UNSHARE_ENCODERS: {[N in UnshareOpName]: Encoder<N>} = {
  'helper-start': () => [],
  // Map lines travel comma-separated (one argv word, one line in --dry-run); the executor restores them.
  'helper-map': (o) => [o.kind, o.mode, mapArg(o.text)],
  'map-write': (o) => [o.kind, mapArg(o.text)],
  'setgroups-write': (o) => [o.mode],
  'timens-offset': (o) => [o.clock, String(o.seconds)],
  persist: (o) => [o.ns, o.path],
  'helper-commit': () => [],
  'fork-wait': (o) => [String(o.killSignal)],
  'proc-private': (o) => [o.path],
  'forward-signals': () => [],
  'env-keep': (o) => [o.names.join(',')],
}

const oneLine = (text: string) => text.trim().split('\n').join(', ')

/** --dry-run text for each op: what it does and the privilege it needs. */
export function describeUnshareOp(op: UnshareOp): {action: string; needs: string} {
  switch (op.op) {
    case 'helper-start':
      return {action: 'fork a helper that stays outside the new namespaces (for id maps and bind mounts made from outside)', needs: '-'}
    case 'helper-map':
      return op.mode === 'write'
        ? {action: `the helper writes ${op.kind} map "${oneLine(op.text)}" to our /proc/PID/${op.kind}_map`, needs: `CAP_SET${op.kind.toUpperCase()} in the parent user namespace`}
        : {action: `the helper runs new${op.kind}map for our pid: "${oneLine(op.text)}"`, needs: `the ranges in /etc/sub${op.kind} (newuidmap is setuid root)`}
    case 'map-write':
      return {action: `write ${op.kind} map "${oneLine(op.text)}" to /proc/self/${op.kind}_map`, needs: 'a single mapping of our own id (anyone), or CAP_SETUID/CAP_SETGID'}
    case 'setgroups-write':
      return {action: `write "${op.mode}" to /proc/self/setgroups${op.mode === 'deny' ? ' (setgroups(2) is then refused in the namespace)' : ''}`, needs: 'before the gid map is written'}
    case 'timens-offset':
      return {action: `offset the ${op.clock} clock of the new time namespace by ${op.seconds}s`, needs: 'CAP_SYS_TIME over the time namespace, before any process enters it'}
    case 'persist':
      return {action: `keep the new ${op.ns} namespace by bind-mounting it on ${op.path} (created if missing), once the command is about to run`, needs: 'CAP_SYS_ADMIN in the original mount namespace'}
    case 'helper-commit':
      return {action: 'make the queued bind mounts, then end the helper (a failure undoes them all)', needs: '-'}
    case 'fork-wait':
      return {
        action: `fork: the child carries on${op.killSignal > 0 ? ` and gets signal ${op.killSignal} when nsx dies (PR_SET_PDEATHSIG)` : ''}; the parent makes the bind mounts once the command runs, then waits and passes on its exit status`,
        needs: '-',
      }
    case 'proc-private':
      return {action: `make ${op.path} private, so the new proc mount does not propagate out`, needs: 'CAP_SYS_ADMIN over the mount namespace'}
    case 'forward-signals':
      return {action: 'after the fork, pass SIGINT and SIGTERM on to the child (instead of ignoring them while it runs)', needs: '-'}
    case 'env-keep':
      return {action: op.names.length > 0 ? `clear the environment but for ${op.names.join(', ')}` : 'clear the environment', needs: '-'}
  }
}
