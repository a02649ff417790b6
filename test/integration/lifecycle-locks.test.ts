import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {needCommand, NSX_BIN} from '../helpers/env.js'
import {containerToolsPresent, Fixture, makeFixture, needContainerTools} from '../helpers/container.js'
import {TestProcesses, waitFor} from '../helpers/processes.js'

/**
 * Verbs that change a container or a group hold its lock: nsx update (a container's limits)
 * and the group verbs wait while another verb holds it, and go on once it is released. The
 * test holds the lock itself (util-linux flock) and sees the verb waiting in the kernel's
 * process table (the executor's `--flock FD wait` child), not by timing.
 */

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-locks-') : undefined

function cmdline(pid: string): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
  } catch {
    return []
  }
}

/** Whether `parent` has a child waiting for a lock through the executor. */
function waitingForLock(parent: number): boolean {
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue
    try {
      const ppid = Number(readFileSync(`/proc/${e}/stat`, 'utf8').split(') ')[1].split(' ')[1])
      if (ppid === parent && cmdline(e).slice(1, 4).join(' ') === '--flock 3 wait') return true
    } catch {
      // gone
    }
  }
  return false
}

/** Hold `file`'s flock in a process of ours until `release()`. */
async function holdLock(procs: TestProcesses, file: string): Promise<{release: () => Promise<void>}> {
  // The shell holds the lock until its stdin closes: no process outlives the release.
  const {child} = await procs.spawnUntilLine('flock', ['-x', file, '-c', 'echo locked; read x'], {stdio: ['pipe', 'pipe', 'pipe']})
  return {
    release: async () => {
      const gone = new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)))
      child.stdin!.end()
      await gone
    },
  }
}

function finished(child: import('node:child_process').ChildProcess): Promise<{code: number | null; stderr: string}> {
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  return new Promise((res) => child.once('exit', (code) => res({code, stderr})))
}

test('nsx update waits for the container lock another verb holds, then changes the limit; group update waits for the groups lock', async (t) => {
  if (!needContainerTools(t) || !needCommand(t, 'flock', 'util-linux')) return
  const f = fx!
  const procs = new TestProcesses()
  t.after(async () => {
    await procs.killAll()
    f.nsx(['rm', '-f', 'locked'])
    f.nsx(['group', 'rm', '-f', 'lockgrp'])
  })
  assert.equal(f.nsx(['run', '-d', '--name', 'locked', '-m', '64m', '--layer', f.base, '--', 'sleep', '1000']).status, 0)
  const ps = JSON.parse(f.nsx(['ps', '--json']).stdout) as {name: string; id: string; cgroups: string[]}[]
  const c = ps.find((x) => x.name === 'locked')!
  const mem = c.cgroups.find((d) => d.startsWith('/sys/fs/cgroup/memory/'))!
  const limit = () => Number(readFileSync(join(mem, 'memory.limit_in_bytes'), 'utf8'))
  const saved = () => (JSON.parse(readFileSync(join(f.store, 'run', c.id, 'config.json'), 'utf8')) as {limits: {memory?: number}}).limits.memory
  assert.equal(limit(), 64 * 1024 * 1024)

  const held = await holdLock(procs, join(f.store, 'run', c.id, 'lock'))
  const upd = procs.spawn(process.execPath, [NSX_BIN, 'update', '-m', '96m', 'locked'], {env: f.env})
  const done = finished(upd)
  await waitFor(() => waitingForLock(upd.pid!), 20000, 'nsx update waiting for the container lock')
  // While it waits, nothing of the update is done.
  assert.equal(limit(), 64 * 1024 * 1024)
  assert.equal(saved(), 64 * 1024 * 1024)
  await held.release()
  const r = await done
  assert.equal(r.code, 0, r.stderr)
  assert.equal(limit(), 96 * 1024 * 1024)
  assert.equal(saved(), 96 * 1024 * 1024)

  // The group verbs: one at a time.
  assert.equal(f.nsx(['group', 'create', 'lockgrp', '--memory', '64m']).status, 0)
  const g = () => JSON.parse(f.nsx(['group', 'inspect', 'lockgrp']).stdout) as {limits: {memory: number}}
  const gheld = await holdLock(procs, join(f.store, 'groups', 'lock'))
  const gupd = procs.spawn(process.execPath, [NSX_BIN, 'group', 'update', 'lockgrp', '--memory', '80m'], {env: f.env})
  const gdone = finished(gupd)
  await waitFor(() => waitingForLock(gupd.pid!), 20000, 'nsx group update waiting for the groups lock')
  assert.equal(g().limits.memory, 64 * 1024 * 1024)
  await gheld.release()
  const gr = await gdone
  assert.equal(gr.code, 0, gr.stderr)
  assert.equal(g().limits.memory, 80 * 1024 * 1024)
})
