// What the test suites must leave as they found it: mounts, network namespaces, cgroups below
// our own, temp entries, and processes. test/run.mjs makes itself a child subreaper, so
// anything a test orphaned is re-parented to it; a subreaper must also reap, or a dying pid
// namespace init (which waits for every process of its namespace to be reaped) never ends.
// Uses the built library (npm test builds first) for the cgroup layout.
import {execFileSync} from 'node:child_process'
import {readFileSync, readdirSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {readCgroupLayout} from '../dist/src/cgroup/hierarchy.js'
import {locateMemberships, readProcCgroup} from '../dist/src/cgroup/membership.js'

const require = createRequire(import.meta.url)
let libc

function loadLibc() {
  if (libc) return libc
  const koffi = require('koffi')
  const lib = koffi.load('libc.so.6')
  libc = {
    prctl: lib.func('int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)'),
    waitpid: lib.func('int waitpid(int pid, int *status, int options)'),
  }
  return libc
}

const PR_SET_CHILD_SUBREAPER = 36
const WNOHANG = 1

/** prctl(PR_SET_CHILD_SUBREAPER). Throws if it cannot: without it the orphan check is blind. */
export function becomeSubreaper() {
  if (loadLibc().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) !== 0) throw new Error('prctl(PR_SET_CHILD_SUBREAPER) failed')
}

/** Processes whose parent is selfPid, with their state letter. */
function childrenOf(selfPid) {
  const out = []
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8')
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(ppid) === selfPid) out.push({pid: Number(e), state, comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))})
    } catch {
      /* gone */
    }
  }
  return out
}

/** Reap adopted orphans that have ended, by pid (never the children libuv waits for itself). */
export function reapAdopted(selfPid, ownChildren = new Set()) {
  for (const c of childrenOf(selfPid)) {
    if (c.state === 'Z' && !ownChildren.has(c.pid)) loadLibc().waitpid(c.pid, null, WNOHANG)
  }
}

function mounts() {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [a, b] = l.split(' - ')
      return `${b.split(' ')[0]} ${a.split(' ')[4]}`
    })
}

function netns() {
  try {
    return execFileSync('ip', ['netns', 'list'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']})
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' ')[0])
  } catch {
    return []
  }
}

/** Every directory below this process's own cgroup, in every hierarchy. */
function cgroups() {
  const out = []
  const walk = (dir, depth) => {
    if (depth > 6) return
    let entries = []
    try {
      entries = readdirSync(dir, {withFileTypes: true})
    } catch {
      return
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue
      out.push(`${dir}/${e.name}`)
      walk(`${dir}/${e.name}`, depth + 1)
    }
  }
  for (const m of locateMemberships(readProcCgroup('self') ?? [], readCgroupLayout())) if (m.directory) walk(m.directory, 0)
  return out
}

function tmpEntries() {
  try {
    return readdirSync(tmpdir()).filter((e) => !e.startsWith('tsx-') && !e.startsWith('node-compile-cache'))
  } catch {
    return []
  }
}

/**
 * The host's own network: addresses, routes and firewall rules, which no test may change
 * (network tests work in a network namespace of their own). Normalised only for what
 * moves by itself: address lifetimes and packet counters.
 */
function hostNetwork() {
  const out = (cmd, args) => {
    try {
      return execFileSync(cmd, args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']})
    } catch {
      return ''
    }
  }
  const addr = out('ip', ['-j', 'addr']).replace(/"(valid_life_time|preferred_life_time)":\d+/g, '"$1":0')
  const route = out('ip', ['-j', 'route'])
  const rules = (text) => text.split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]').replace(/counter packets \d+ bytes \d+/g, 'counter')).join('\n')
  return {addresses: addr, routes: route, iptables: rules(out('iptables-save', [])), nftables: rules(out('nft', ['list', 'ruleset']))}
}

export function snapshot() {
  return {mounts: mounts(), netns: netns(), cgroups: cgroups(), tmp: tmpEntries(), hostNet: hostNetwork()}
}

const added = (before, after) => {
  const counts = new Map()
  for (const x of before) counts.set(x, (counts.get(x) ?? 0) + 1)
  const out = []
  for (const x of after) {
    const n = counts.get(x) ?? 0
    if (n > 0) counts.set(x, n - 1)
    else out.push(x)
  }
  return out
}

/**
 * Adopted orphans still running after a grace period: helpers such as tsx's esbuild service
 * exit on their own once the test process that started them is gone, a moment later.
 */
async function lingeringOrphans(selfPid, graceMs = 3000) {
  const end = Date.now() + graceMs
  const alive = () => {
    reapAdopted(selfPid)
    return childrenOf(selfPid).filter((c) => c.state !== 'Z')
  }
  let found = alive()
  while (found.length > 0 && Date.now() < end) {
    await new Promise((res) => setTimeout(res, 100))
    found = alive()
  }
  return found
}

/** Lines describing what the suites left behind; kills (by pid) the processes they orphaned. */
export async function leftovers(before, selfPid) {
  const lingering = await lingeringOrphans(selfPid)
  const after = snapshot()
  const lines = []
  for (const m of added(before.mounts, after.mounts)) lines.push(`mount left: ${m}`)
  for (const n of added(before.netns, after.netns)) lines.push(`network namespace left: ${n}`)
  for (const c of added(before.cgroups, after.cgroups)) lines.push(`cgroup left: ${c}`)
  for (const t of added(before.tmp, after.tmp)) lines.push(`temp entry left: ${tmpdir()}/${t}`)
  for (const k of Object.keys(before.hostNet)) if (before.hostNet[k] !== after.hostNet[k]) lines.push(`the host's network changed: ${k} (ip -j addr, ip -j route, iptables-save, nft list ruleset differ from before the tests)`)
  for (const p of lingering) {
    lines.push(`process left: ${p.pid} (${p.comm})`)
    try {
      process.kill(p.pid, 'SIGKILL')
    } catch {
      /* already gone */
    }
  }
  return lines
}
