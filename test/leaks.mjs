// What the test suites must leave as they found it: mounts, nsfs bind mounts, network
// namespaces, cgroups below our own, temp entries, and processes (test/run.mjs makes
// itself a child subreaper, so anything a test orphaned is re-parented to it).
import {execFileSync} from 'node:child_process'
import {readFileSync, readdirSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'

const require = createRequire(import.meta.url)

/** prctl(PR_SET_CHILD_SUBREAPER): orphaned descendants come to us, so leaks are visible. */
export function becomeSubreaper() {
  try {
    const koffi = require('koffi')
    const prctl = koffi.load('libc.so.6').func('int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)')
    return prctl(36, 1, 0, 0, 0) === 0
  } catch {
    return false
  }
}

function mounts() {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [a, b] = l.split(' - ')
      const f = a.split(' ')
      return `${b.split(' ')[0]} ${f[4]}`
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
  const mountsByKey = new Map()
  for (const l of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [a, b] = l.split(' - ')
    if (!b) continue
    const [fstype, , sopts] = b.split(' ')
    const mp = a.split(' ')[4]
    if (fstype === 'cgroup2') mountsByKey.set('', mp)
    if (fstype === 'cgroup') {
      const ctrls = sopts.split(',').filter((o) => !['rw', 'ro', 'relatime', 'xattr', 'clone_children', 'noprefix', 'cpuset_v2_mode', 'favordynmods'].includes(o) && !o.startsWith('release_agent'))
      mountsByKey.set(ctrls.join(','), mp)
    }
  }
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n').filter(Boolean)) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line)
    if (!m) continue
    const [, , ctrls, path] = m
    const mp = mountsByKey.get(ctrls)
    if (!mp) continue
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
    walk(`${mp}${path === '/' ? '' : path}`, 0)
  }
  return out
}

function tmpEntries() {
  try {
    return readdirSync(tmpdir()).filter((e) => !e.startsWith('tsx-') && !e.startsWith('node-compile-cache'))
  } catch {
    return []
  }
}

function orphans(selfPid) {
  const out = []
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8')
      const [state, ppidText] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const ppid = Number(ppidText)
      // A zombie has ended (e.g. a detached container's supervisor, orphaned to us when nsx run -d
      // returned): only reaping is left, which this runner does not do. Not a leak.
      if (state === 'Z') continue
      if (ppid === selfPid) out.push({pid: Number(e), comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))})
    } catch {
      /* gone */
    }
  }
  return out
}

export function snapshot() {
  return {mounts: mounts(), netns: netns(), cgroups: cgroups(), tmp: tmpEntries()}
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
 * Orphans that are still there after a grace period: helpers such as tsx's esbuild service
 * exit on their own once the test process that started them is gone, a moment later.
 */
async function lingeringOrphans(selfPid, graceMs = 3000) {
  const end = Date.now() + graceMs
  let found = orphans(selfPid)
  while (found.length > 0 && Date.now() < end) {
    await new Promise((res) => setTimeout(res, 100))
    found = orphans(selfPid)
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
