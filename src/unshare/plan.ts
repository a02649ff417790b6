import {NsxError} from '../cli/errors.js'
import {NS_TYPES, NsType} from '../ns/types.js'
import type {Op, Plan} from '../plan/ops.js'
import type {IdMap} from '../userns/maps.js'
import {
  addSingleMapping,
  allSubidRanges,
  checkMapSpec,
  expandRangeSpecs,
  firstUnallowedExtent,
  firstUnmappedExtent,
  MapSpecError,
  mapText,
} from '../userns/map-spec.js'
import {CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN, hasCap, SUBGID, SUBUID, UnshareFacts} from './facts.js'
import type {UnshareOptions} from './options.js'

const fail = (msg: string): never => {
  throw new NsxError(msg, 125)
}

/** One id map to write, and who writes it. */
export interface MapDecision {
  kind: 'uid' | 'gid'
  map: IdMap
  /** self: we write our own map (one id); helper: from outside, as root or through new[ug]idmap. */
  by: 'self' | 'helper-write' | 'newidmap'
}

/**
 * The uid and gid maps the options ask for, checked before anything runs: syntax and
 * overlaps (as the kernel checks them), and that the outer ids are ours to give:
 * in /etc/subuid for an unprivileged user (newuidmap's rule), in our own map for root.
 */
export function decideMaps(o: UnshareOptions, f: UnshareFacts): MapDecision[] {
  const out: MapDecision[] = []
  for (const kind of ['uid', 'gid'] as const) {
    const isUid = kind === 'uid'
    const specs = isUid ? o.mapUsers : o.mapGroups
    const own = isUid ? f.euid : f.egid
    const single = isUid ? f.mapUid : f.mapGid
    const option = isUid ? '--map-users' : '--map-groups'
    const privileged = hasCap(f, isUid ? CAP_SETUID : CAP_SETGID)
    let map: IdMap
    try {
      const ranges = expandRangeSpecs(specs, {
        kind,
        subidText: isUid ? f.subuid : f.subgid,
        subidPath: isUid ? SUBUID : SUBGID,
        user: {name: f.userName, uid: f.euid},
        currentMap: isUid ? f.uidMap : f.gidMap,
      })
      if (ranges.length === 0 && single === undefined) continue
      map = single === undefined ? ranges : addSingleMapping(ranges, {inside: single, outside: own})
      checkMapSpec(map, specs.length > 0 ? option : `--map-${isUid ? 'user' : 'group'}`)
    } catch (err) {
      if (err instanceof MapSpecError) fail(err.message)
      throw err
    }
    // The kernel takes a map in one write of less than a page.
    if (mapText(map).length >= 4096) fail(`${option}: the map is ${mapText(map).length} bytes written out; the kernel takes less than 4096`)
    // With --owner we are no longer ourselves when the maps are written: the helper writes them.
    const needsHelper = specs.length > 0 || (!isUid && o.setgroups === 'allow') || o.owner !== undefined
    if (!needsHelper) {
      out.push({kind, map, by: 'self'})
      continue
    }
    if (privileged) {
      const bad = firstUnmappedExtent(map, isUid ? f.uidMap : f.gidMap)
      if (bad) fail(`${option}: outer ${kind}s ${bad.outside}-${bad.outside + bad.count - 1} do not exist in this user namespace (see /proc/self/${kind}_map)`)
      out.push({kind, map, by: 'helper-write'})
      continue
    }
    if (specs.length === 0) {
      // Only a single gid with --setgroups allow: the kernel takes that from root only.
      fail('--setgroups allow and --map-group (or -r, -c) go together only for root: an unprivileged gid map needs setgroups denied')
    }
    const subids = allSubidRanges((isUid ? f.subuid : f.subgid) ?? '', {name: f.userName, uid: f.euid})
    const bad = firstUnallowedExtent(map, subids, own)
    if (bad) {
      const who = f.userName ?? String(f.euid)
      const have = subids.length > 0 ? subids.map((r) => `${r.start}-${r.start + r.count - 1}`).join(', ') : 'none'
      fail(`${option}: outer ${kind}s ${bad.outside}-${bad.outside + bad.count - 1} are not ${who}'s to map (${isUid ? SUBUID : SUBGID} gives ${who}: ${have})`)
    }
    if (!f.newidmap) fail(`${option} as an unprivileged user needs newuidmap and newgidmap (Debian package uidmap)`)
    out.push({kind, map, by: 'newidmap'})
  }
  return out
}

/**
 * util-linux unshare's sequence, as a plan for the native executor:
 *   helper (when maps or persistence need one) -> owner ids -> unshare -> setgroups -> id maps ->
 *   time offsets -> [persist, queued] -> fork -> propagation -> root, wd -> /proc ->
 *   gid, uid -> capabilities -> environment -> bind mounts for persistence -> exec.
 * The user namespace is created in the same unshare(2) call as the others, so the
 * kernel creates it first and the others are owned by it: that is what lets an
 * unprivileged user unshare everything (`nsx unshare -r ...`).
 */
export function buildUnsharePlan(o: UnshareOptions, f: UnshareFacts, persistPaths: Map<NsType, string> = new Map()): Plan {
  const ns = o.namespaces
  const user = ns.has('user')
  const ops: Op[] = []

  if (o.mountProc !== undefined && ns.has('pid') && !o.fork) {
    fail('--mount-proc with --pid needs --fork (-f): only a forked child is in the new pid namespace (mounting its proc would fail)')
  }
  if (persistPaths.has('pid') && !o.fork) fail('--pid=FILE needs --fork (-f): the pid namespace exists only once its first process is forked')
  if (!user) {
    const others = [...ns.keys()]
    if (others.length > 0 && !hasCap(f, CAP_SYS_ADMIN)) {
      fail(`unsharing ${others.join(', ')} needs CAP_SYS_ADMIN: run as root, or add a user namespace first (-r, or -U --map-user ...)`)
    }
  }
  if (persistPaths.size > 0 && !hasCap(f, CAP_SYS_ADMIN)) {
    fail('keeping a namespace (--TYPE=FILE) needs CAP_SYS_ADMIN in the original mount namespace, for the bind mount: run as root')
  }
  if (o.setgroups !== undefined && !user) fail('--setgroups needs a new user namespace (-U, -r, -c or --map-*)')
  if (o.keepCaps && !user) fail('--keep-caps needs a new user namespace (-U, -r, -c or --map-*)')

  if (o.owner && !(hasCap(f, CAP_SETUID) && hasCap(f, CAP_SETGID))) {
    fail('--owner needs CAP_SETUID and CAP_SETGID (root): nsx becomes the owner before it makes the user namespace')
  }
  const maps = user ? decideMaps(o, f) : []
  const helper = persistPaths.size > 0 || maps.some((m) => m.by !== 'self')
  if (helper) ops.push({op: 'helper-start'})
  // The helper, started first, keeps our ids for the maps and bind mounts.
  if (o.owner) ops.push({op: 'setgroups'}, {op: 'setgid', gid: o.owner.gid}, {op: 'setuid', uid: o.owner.uid})

  const types = NS_TYPES.filter((t) => ns.has(t))
  if (types.length > 0) ops.push({op: 'unshare', ns: [...types]})

  // setgroups must be settled before the gid map is written (the kernel refuses it after).
  const selfGid = maps.find((m) => m.kind === 'gid' && m.by === 'self')
  const setgroups = o.setgroups ?? (selfGid ? 'deny' : undefined)
  if (selfGid && setgroups === 'allow') {
    fail('--setgroups allow and --map-group (or -r, -c) are mutually exclusive here: a gid map we write ourselves needs setgroups denied')
  }
  if (setgroups !== undefined) ops.push({op: 'setgroups-write', mode: setgroups})
  for (const m of maps) {
    const text = mapText(m.map)
    if (m.by === 'self') ops.push({op: 'map-write', kind: m.kind, text})
    else ops.push({op: 'helper-map', kind: m.kind, mode: m.by === 'newidmap' ? 'newidmap' : 'write', text})
  }
  // Offsets must be set before any process enters the time namespace: before fork and exec.
  if (o.monotonic !== undefined) ops.push({op: 'timens-offset', clock: 'monotonic', seconds: o.monotonic})
  if (o.boottime !== undefined) ops.push({op: 'timens-offset', clock: 'boottime', seconds: o.boottime})
  for (const t of NS_TYPES) {
    const path = persistPaths.get(t)
    if (path !== undefined) ops.push({op: 'persist', ns: t, path})
  }

  if (o.forwardSignals) ops.push({op: 'forward-signals'})
  if (o.fork) ops.push({op: 'fork-wait', killSignal: o.killChild ?? 0})

  // Mount propagation first, so nothing done below propagates back to the host.
  if (ns.has('mnt') && o.propagation !== 'unchanged') ops.push({op: 'propagation', mode: o.propagation, path: '/'})
  if (o.root !== undefined) ops.push({op: 'open-root', path: o.root}, {op: 'chroot'})
  if (o.wd !== undefined) ops.push({op: 'chdir', path: o.wd})
  if (o.mountProc !== undefined) {
    // With private propagation the step above covered /proc already (util-linux's reasoning).
    if (o.propagation !== 'private') ops.push({op: 'proc-private', path: o.mountProc})
    ops.push({op: 'mount-proc', path: o.mountProc})
  }
  if (o.setgid !== undefined) ops.push({op: 'setgroups'}, {op: 'setgid', gid: o.setgid})
  if (o.setuid !== undefined) ops.push({op: 'setuid', uid: o.setuid})
  if (o.keepCaps) ops.push({op: 'keep-caps'})
  if (o.keepEnv !== undefined) ops.push({op: 'env-keep', names: [...new Set(o.keepEnv)]})
  if (helper && !o.fork) ops.push({op: 'helper-commit'})
  ops.push(o.command.length > 0 ? {op: 'exec', argv: o.command} : {op: 'exec-shell'})
  return {command: 'nsx unshare', ops}
}
