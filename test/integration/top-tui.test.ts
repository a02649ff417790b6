import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync, existsSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {needCommand, needRoot, NSX_BIN, run} from '../helpers/env.js'
import {Tmux} from '../helpers/tmux.js'
import {TestCgroup} from '../helpers/cgroups.js'
import {TestProcesses} from '../helpers/processes.js'

interface Fixture {
  base: string
  tmp: string
}

/** A cgroup with two children, "alpha" (idle) and "beta" (one busy loop), in cpu and cpuacct. */
async function fixture(t: {after(fn: () => Promise<void> | void): void}): Promise<{cg: TestCgroup; tmp: string; tm: Tmux}> {
  const cg = new TestCgroup(`nsx-top-tui-${process.pid}-${Math.random().toString(36).slice(2, 6)}`, ['cpu', 'cpuacct'])
  const children: string[] = []
  const procs = new TestProcesses()
  const tmp = mkdtempSync(join(tmpdir(), 'nsx-top-tui-'))
  const tm = new Tmux(tmp)
  t.after(async () => {
    // The tmux server first: its socket lives in tmp, and a failed test leaves nsx top running in it.
    tm.kill()
    await procs.killAll()
    for (const d of children.reverse()) {
      for (let i = 0; i < 100 && existsSync(d); i++) {
        try {
          rmdirSync(d)
        } catch {
          await new Promise((r) => setTimeout(r, 20))
        }
      }
    }
    await cg.remove()
    rmSync(tmp, {recursive: true, force: true})
  })
  for (const name of ['alpha', 'beta']) {
    for (const dir of cg.dirs()) {
      const d = `${dir}/${name}`
      mkdirSync(d)
      children.push(d)
    }
  }
  const join1 = cg.dirs().map((dir) => `echo $$ > '${dir}/beta/cgroup.procs';`).join(' ')
  await procs.spawnUntilLine('sh', ['-c', `${join1} echo ready; while :; do :; done`])
  return {cg, tmp, tm}
}

function startTop(tm: Tmux, term: string, base: string, tmp: string, width = 150, height = 45, extraEnv = ''): {stderr: string; status: string} {
  const stderr = join(tmp, `stderr-${term}`)
  const status = join(tmp, `status-${term}`)
  writeFileSync(stderr, '')
  const cmd = `env ${extraEnv} TERM=${term} LANG=C.UTF-8 '${process.execPath}' '${NSX_BIN}' top --sort name --delay 0.5 '${base}' 2>'${stderr}'; echo $? > '${status}'; sleep 5`
  tm.start(cmd, width, height)
  return {stderr, status}
}

async function waitExit(status: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    if (existsSync(status)) {
      const s = readFileSync(status, 'utf8').trim()
      if (s !== '') return s
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  assert.fail('nsx top did not exit after q')
}

/** Row lines of the table: they start with the tree mark and a name. */
function rowOrder(screen: string, names: string[]): string[] {
  const lines = screen.split('\n')
  const found: {name: string; at: number}[] = []
  for (const n of names) {
    const at = lines.findIndex((l) => new RegExp(`^\\s*[▾▸ -+]?\\s*${n}\\s`).test(l))
    if (at >= 0) found.push({name: n, at})
  }
  return found.sort((a, b) => a.at - b.at).map((f) => f.name)
}

test('the dashboard shows the tree, moves, sorts, collapses, filters, helps, resizes and quits, stderr empty', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'tmux', 'tmux')) return
  const {cg, tmp, tm} = await fixture(t)
  const base = cg.rel('cpuacct')
  const leaf = base.slice(base.lastIndexOf('/') + 1)
  const {stderr, status} = startTop(tm, 'xterm-256color', base, tmp)

  let screen = await tm.waitFor('the table', (s) => s.includes('CGROUP') && s.includes('beta') && s.includes('alpha'))
  assert.match(screen, /sort: name/)
  assert.match(screen, /CPU% 100 = one core/)
  assert.deepEqual(rowOrder(screen, [leaf, 'alpha', 'beta']), [leaf, 'alpha', 'beta'])

  // s: name -> cpu; the busy child comes first once CPU% is known.
  tm.keys('s')
  screen = await tm.waitFor('sort by cpu with beta first', (s) => s.includes('sort: cpu') && rowOrder(s, ['alpha', 'beta'])[0] === 'beta')
  const betaLine = screen.split('\n').find((l) => /^\s*\S?\s*beta\s/.test(l))!
  const cpu = Number(betaLine.trim().split(/\s+/)[2])
  // Its share of a loaded 2-core machine can be small (20% with eight others' tests running):
  // some CPU, and more than the idle sibling's, is what the dashboard must show.
  const alphaLine = screen.split('\n').find((l) => /^\s*\S?\s*alpha\s/.test(l))!
  assert.ok(cpu > 1 && cpu > Number(alphaLine.trim().split(/\s+/)[2]), `beta's CPU% on screen: ${betaLine}, alpha's: ${alphaLine}`)

  // j moves the selection to beta: the charts follow it.
  tm.keys('j')
  await tm.waitFor('the CPU chart of beta', (s) => new RegExp(`CPU % \\S*${leaf}/beta`).test(s))
  tm.keys('k')
  await tm.waitFor('the CPU chart of the base', (s) => new RegExp(`CPU % \\S*${leaf} `).test(s))

  // enter collapses the selected cgroup, and expands it again.
  tm.keys('Enter')
  await tm.waitFor('the children hidden', (s) => !s.includes('alpha') && !s.includes(' beta '))
  tm.keys('Enter')
  await tm.waitFor('the children shown again', (s) => rowOrder(s, ['alpha', 'beta']).length === 2)

  // / filters by path.
  tm.keys('/', 'a', 'l', 'p', 'Enter')
  screen = await tm.waitFor('the filter applied', (s) => s.includes('filter: alp') && !/^\s*\S?\s*beta\s/m.test(s))
  assert.deepEqual(rowOrder(screen, [leaf, 'alpha', 'beta']), [leaf, 'alpha'])
  tm.keys('Escape')
  await tm.waitFor('the filter cleared', (s) => rowOrder(s, ['alpha', 'beta']).length === 2)

  // ? shows the help; any key closes it.
  tm.keys('?')
  await tm.waitFor('the help', (s) => s.includes('nsx top keys'))
  tm.keys('x')
  await tm.waitFor('the help closed', (s) => !s.includes('nsx top keys'))

  // p pauses.
  tm.keys('p')
  await tm.waitFor('paused', (s) => s.includes('PAUSED'))
  tm.keys('p')
  await tm.waitFor('resumed', (s) => !s.includes('PAUSED'))

  // Too small a terminal says so; growing it back redraws the table.
  tm.resize(40, 10)
  await tm.waitFor('the too-small notice', (s) => s.includes('terminal too small'))
  tm.resize(150, 45)
  await tm.waitFor('the table again', (s) => s.includes('CGROUP') && s.includes('alpha'))

  tm.keys('q')
  assert.equal(await waitExit(status), '0')
  assert.equal(readFileSync(stderr, 'utf8'), '', 'nothing on stderr')
})

for (const term of ['tmux-256color', 'screen-256color', 'linux', 'xterm-256color']) {
  test(`under TERM=${term} the dashboard draws, takes keys and quits with nothing on stderr`, async (t) => {
    if (!needRoot(t) || !needCommand(t, 'tmux', 'tmux')) return
    const {cg, tmp, tm} = await fixture(t)
    const {stderr, status} = startTop(tm, term, cg.rel('cpuacct'), tmp, 120, 35)
    await tm.waitFor('the table', (s) => s.includes('CGROUP') && s.includes('beta') && s.includes('Processes'))
    tm.keys('s')
    await tm.waitFor('sort by cpu', (s) => s.includes('sort: cpu'))
    // The header bar is drawn in a 256-colour grey: blessed must not fall back to 8 colours.
    const coloured = tm.capture(true)
    if (term.endsWith('256color')) assert.match(coloured, /\[[0-9;]*48;5;\d+/, '256-colour background in use')
    else assert.doesNotMatch(coloured, /48;5;/, `no 256-colour sequences for TERM=${term}`)
    tm.keys('q')
    assert.equal(await waitExit(status), '0')
    assert.equal(readFileSync(stderr, 'utf8'), '', `nothing on stderr under TERM=${term}`)
  })
}

test('closing the terminal (SIGHUP) ends nsx top instead of leaving it running', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'tmux', 'tmux')) return
  const {cg, tmp, tm} = await fixture(t)
  startTop(tm, 'xterm-256color', cg.rel('cpuacct'), tmp, 120, 35)
  await tm.waitFor('the table', (s) => s.includes('CGROUP') && s.includes('beta'))
  const pids = run('pgrep', ['-f', `nsx top --sort name --delay 0.5 ${cg.rel('cpuacct')}`]).stdout.trim().split('\n').filter(Boolean).map(Number)
  assert.ok(pids.length > 0, 'nsx top is running')
  tm.kill()
  const gone = () => pids.every((p) => !existsSync(`/proc/${p}`) || readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]?.startsWith('Z'))
  for (let i = 0; i < 50 && !gone(); i++) await new Promise((r) => setTimeout(r, 100))
  for (const p of pids) if (existsSync(`/proc/${p}`) && !gone()) process.kill(p, 'SIGKILL')
  assert.ok(gone(), 'nsx top exited when its terminal went away')
})

test('the selected cgroup lists its processes, a containerised one with its own namespaces', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'tmux', 'tmux') || !needCommand(t, 'unshare', 'util-linux')) return
  const cg = new TestCgroup(`nsx-top-ns-${process.pid}-${Math.random().toString(36).slice(2, 6)}`, ['cpuacct'])
  const procs = new TestProcesses()
  const tmp = mkdtempSync(join(tmpdir(), 'nsx-top-tui-'))
  const tm = new Tmux(tmp)
  t.after(async () => {
    // The tmux server first: its socket lives in tmp, and a failed test leaves nsx top running in it.
    tm.kill()
    await procs.killAll()
    await cg.remove()
    rmSync(tmp, {recursive: true, force: true})
  })
  // unshare moves itself into new mount, uts, ipc and net namespaces; only its child (the
  // "container") is in the new pid namespace too. --kill-child: killing unshare (by pid, at
  // cleanup) takes the child down.
  const {line} = await procs.spawnUntilLine('sh', [
    '-c',
    `${cg.joinScript()} exec unshare --mount --uts --ipc --net --pid --fork --kill-child sh -c 'echo ready; exec sleep 100000'`,
  ])
  assert.equal(line, 'ready')
  startTop(tm, 'xterm-256color', cg.rel('cpuacct'), tmp, 240, 40)
  const screen = await tm.waitFor('the process list', (s) => /\[mnt,net,pid,uts,ipc\] sleep 100000/.test(s) && /\bunshare --mount/.test(s))
  assert.match(screen, /\[mnt,net,uts,ipc\] unshare --mount/, 'unshare: new mnt, net, uts, ipc, but the host pid namespace')
  assert.match(screen, /Processes \(2\)/)
  tm.keys('q')
})

test('with NO_COLOR the dashboard uses no colour at all, only bold and inverse', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'tmux', 'tmux')) return
  const {cg, tmp, tm} = await fixture(t)
  const {stderr, status} = startTop(tm, 'xterm-256color', cg.rel('cpuacct'), tmp, 150, 40, 'NO_COLOR=1')
  await tm.waitFor('the charts and processes', (s) => s.includes('Processes (') && s.includes('CPU % ') && s.includes('wset '))
  const screen = tm.capture(true)
  // SGR parameters that set a colour: 30-37, 38;5;N, 40-47, 48;5;N, 90-97, 100-107.
  for (const m of screen.matchAll(/\x1b\[([0-9;]*)m/g)) {
    const params = m[1].split(';').map(Number)
    const coloured = params.some((p) => (p >= 30 && p <= 38) || (p >= 40 && p <= 48) || (p >= 90 && p <= 107))
    assert.ok(!coloured, `a colour escape under NO_COLOR: ${JSON.stringify(m[0])}`)
  }
  assert.match(screen, /wset .* \/ /, 'the memory gauge becomes a line of text')
  tm.keys('q')
  assert.equal(await waitExit(status), '0')
  assert.equal(readFileSync(stderr, 'utf8'), '')
})

test('a terminal that cannot move the cursor (TERM=dumb) gets one line pointing to --batch, exit 1', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'tmux', 'tmux')) return
  const {cg, tmp, tm} = await fixture(t)
  const {stderr, status} = startTop(tm, 'dumb', cg.rel('cpuacct'), tmp, 100, 30)
  assert.equal(await waitExit(status), '1')
  assert.match(readFileSync(stderr, 'utf8'), /^nsx top: the dashboard needs a terminal that can move the cursor \(TERM is 'dumb'\); use --batch\n$/)
})
