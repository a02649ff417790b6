import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {assertOneLineError, needCommand, NSX_BIN} from '../helpers/env.js'
import {Tmux} from '../helpers/tmux.js'
import {containerToolsPresent, Fixture, makeFixture, needContainerTools} from '../helpers/container.js'
import {childrenOf, TestProcesses, waitFor} from '../helpers/processes.js'

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-exec-') : undefined

interface Entry {
  name: string
  pid: number
  supervisorPid: number
}

function entry(f: Fixture, name: string): Entry {
  const ps = JSON.parse(f.nsx(['ps', '--json']).stdout) as Entry[]
  const e = ps.find((x) => x.name === name)
  assert.ok(e, `container ${name} not listed`)
  return e
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ')
  } catch {
    return ''
  }
}

/** A process whose pid namespace is that of `init` and whose command line is `cmd`. */
function findInContainer(init: number, cmd: string): number | undefined {
  const pidns = readlinkSync(`/proc/${init}/ns/pid`)
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue
    try {
      if (readlinkSync(`/proc/${e}/ns/pid`) === pidns && cmdline(Number(e)) === cmd) return Number(e)
    } catch {
      // gone
    }
  }
  return undefined
}

const STATUS_FIELDS = ['Uid', 'Gid', 'Groups', 'CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp', 'Seccomp_filters']

/** Everything the kernel says of a process's restrictions, as read from the host. */
function restrictionsOf(pid: number): Record<string, string> {
  const out: Record<string, string> = {}
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  for (const f of STATUS_FIELDS) out[f] = (new RegExp(`^${f}:[ \\t]*(.*)$`, 'm').exec(status)?.[1] ?? '<absent>').trim()
  out.cgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
  for (const ns of readdirSync(`/proc/${pid}/ns`).sort()) out[`ns/${ns}`] = readlinkSync(`/proc/${pid}/ns/${ns}`)
  out.environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).sort().join('\n')
  out.cwd = readlinkSync(`/proc/${pid}/cwd`)
  const root = statSync(`/proc/${pid}/root/`)
  out.root = `${root.dev}:${root.ino}`
  out.fds = readdirSync(`/proc/${pid}/fd`).sort().join(',')
  return out
}

for (const [label, flags] of [
  ['a non-root user, dropped and added capabilities, limits (v1 memory and pids cgroups)', ['-u', 'app', '-w', '/tmp', '--cap-drop', 'CHOWN', '--cap-add', 'SYS_PTRACE', '-e', 'FOO=bar', '-m', '64m', '--pids-limit', '50']],
  ["root with docker's default capabilities", []],
  // setns by pidfd into the others after the user namespace was refused (EPERM): the init is not ptrace-readable from there.
  ['a user namespace of its own (--userns), its namespaces owned by it', ['--userns', '0:100000:65536']],
] as const) {
  test(`exec's process has the restrictions of the container's first process, field by field from /proc: ${label}`, async (t) => {
    if (!needContainerTools(t)) return
    const f = fx!
    const name = `same-${flags.length}`
    const procs = new TestProcesses()
    t.after(async () => {
      await procs.killAll()
      f.nsx(['stop', '-t', '0', name])
    })
    const r = f.nsx(['run', '-d', '--name', name, ...flags, '--layer', f.base, '--', 'sleep', '1000'])
    assert.equal(r.status, 0, r.stderr)
    const init = entry(f, name).pid
    const [workload] = childrenOf(init)
    assert.equal(cmdline(workload), 'sleep 1000')
    const want = restrictionsOf(workload)

    // -d: returns once the command runs, which the container's init adopts.
    const d = f.nsx(['exec', '-d', name, 'sleep', '1001'])
    assert.equal(d.status, 0, d.stderr)
    assert.equal(d.stdout + d.stderr, '')
    const detached = findInContainer(init, 'sleep 1001')
    assert.ok(detached !== undefined, 'exec -d process not found')
    assert.deepEqual(restrictionsOf(detached), {...want, fds: '0,1,2'})

    // In the foreground: nsx waits for it, its stdin is /dev/null (no -i).
    const fg = procs.spawn(NSX_BIN, ['exec', name, 'sleep', '1002'], {env: f.env})
    let inside: number | undefined
    await waitFor(() => (inside = findInContainer(init, 'sleep 1002')) !== undefined, 20000, 'the foreground exec process')
    const got = restrictionsOf(inside!)
    assert.equal(readlinkSync(`/proc/${inside}/fd/0`), '/dev/null')
    assert.deepEqual({...got, fds: ''}, {...want, fds: ''})
    assert.deepEqual(readdirSync(`/proc/${inside}/fd`).sort(), ['0', '1', '2'])
    process.kill(inside!, 'SIGTERM')
    const code = await new Promise<number | null>((res) => fg.on('exit', (c, s) => res(c ?? (s ? 128 : null))))
    assert.equal(code, 128, 'nsx exec dies of the command\'s signal')
  })
}

test("exec: -u, -w, -e, --env-file, the command's status, 126 for one that cannot start (found or not: docker exec's code), and docker's errors for no such container, a stopped one and a paused one", (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => {
    f.nsx(['unpause', 'errs'])
    f.nsx(['stop', '-t', '0', 'errs'])
  })
  assert.equal(f.nsx(['run', '-d', '--name', 'errs', '-e', 'A=ctr', '--layer', f.base, '--', 'sleep', '1000']).status, 0)
  const envFile = join(f.dir, 'exec.env')
  writeFileSync(envFile, 'B=file\n')
  const r = f.nsx(['exec', '-u', 'app', '-w', '/tmp', '-e', 'C=flag', '--env-file', envFile, 'errs', 'sh', '-c', 'id; pwd; echo $A $B $C; exit 7'])
  assert.equal(r.status, 7, r.stderr)
  assert.equal(r.stdout, 'uid=1000(app) gid=1000(app) groups=2000(extra)\n/tmp\nctr file flag\n')
  // The id's prefix names the container too.
  const id = (JSON.parse(f.nsx(['ps', '--json']).stdout) as {name: string; id: string}[]).find((c) => c.name === 'errs')!.id
  assert.equal(f.nsx(['exec', id.slice(0, 6), 'hostname']).stdout, 'errs\n')
  // -i passes stdin on.
  assert.equal(f.nsx(['exec', '-i', 'errs', 'cat'], {input: 'piped\n'}).stdout, 'piped\n')
  assertOneLineError(f.nsx(['exec', 'errs', 'no-such-cmd']), 126, /^nsx exec: failed to execute no-such-cmd: No such file or directory$/)
  assertOneLineError(f.nsx(['exec', 'errs', '/etc/passwd']), 126, /failed to execute \/etc\/passwd: Permission denied/)
  assertOneLineError(f.nsx(['exec', '-d', 'errs', 'no-such-cmd']), 126, /failed to execute no-such-cmd/)
  assertOneLineError(f.nsx(['exec', 'errs', '/no/such']), 126, /^nsx exec: failed to execute \/no\/such: No such file or directory$/)
  // A working directory that cannot be entered: 126, as docker exec (runc's chdir to cwd failure).
  assertOneLineError(f.nsx(['exec', '-w', '/missing', 'errs', 'ls']), 126, /^nsx exec: chdir to cwd \("\/missing"\) failed: No such file or directory$/)
  assertOneLineError(f.nsx(['exec', '-d', '-w', '/missing', 'errs', 'ls']), 126, /^nsx exec: chdir to cwd \("\/missing"\) failed: No such file or directory$/)
  assertOneLineError(f.nsx(['exec', '-w', '/etc/motd', 'errs', 'ls']), 126, /chdir to cwd \("\/etc\/motd"\) failed: Not a directory$/)
  assertOneLineError(f.nsx(['exec', 'ghost', 'true']), 1, /^nsx exec: No such container: ghost$/)
  assertOneLineError(f.nsx(['exec', 'errs']), 125, /requires at least 2 arguments/)
  assertOneLineError(f.nsx(['exec', '-u', 'nobody-here', 'errs', 'true']), 125, /unable to find user nobody-here/)
  assertOneLineError(f.nsx(['exec', '-w', 'rel', 'errs', 'true']), 125, /needs to be an absolute path/)
  assertOneLineError(f.nsx(['exec', '-it', 'errs', 'sh'], {input: ''}), 1, /^nsx exec: the input device is not a TTY$/)
  assert.equal(f.nsx(['pause', 'errs']).status, 0)
  assertOneLineError(f.nsx(['exec', 'errs', 'true']), 1, /^nsx exec: container errs is paused, unpause the container before exec$/)
  assertOneLineError(f.nsx(['exec', '-d', 'errs', 'true']), 1, /^nsx exec: container errs is paused, unpause the container before exec$/)
  // nsx enter NAME says the same; its status is its own table's (125: nsx's failure, the command never ran).
  assertOneLineError(f.nsx(['enter', 'errs', 'true']), 125, /^nsx enter: container errs is paused, unpause the container before exec$/)
  assert.equal(f.nsx(['unpause', 'errs']).status, 0)
  assert.equal(f.nsx(['exec', 'errs', 'true']).status, 0)
  // A container whose supervisor and init were killed is not running (its state stays until swept).
  const e = entry(f, 'errs')
  process.kill(e.supervisorPid, 'SIGKILL')
  process.kill(e.pid, 'SIGKILL')
  assertOneLineError(f.nsx(['exec', 'errs', 'true']), 1, /^nsx exec: container errs is not running$/)
  assertOneLineError(f.nsx(['pause', 'errs']), 1, /^nsx pause: container errs is not running$/)
})

/** A layer whose /usr/local/bin/ps records the capabilities it ran with: a container that would turn a debugger's `ps` against it. */
function plantedLayer(f: Fixture): string {
  const dir = join(f.dir, 'planted')
  mkdirSync(join(dir, 'usr', 'local', 'bin'), {recursive: true})
  const ps = join(dir, 'usr', 'local', 'bin', 'ps')
  writeFileSync(ps, '#!/bin/sh\ngrep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status > /tmp/planted-ps-ran\necho planted\n')
  chmodSync(ps, 0o755)
  return dir
}

test('nsx enter NAME runs with the container\'s restrictions (a planted ps gets the container\'s capabilities), -- after the name, /bin/sh without a command; --privileged is nsenter\'s', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => f.nsx(['stop', '-t', '0', 'planted']))
  const layer = plantedLayer(f)
  assert.equal(f.nsx(['run', '-d', '--name', 'planted', '--layer', f.base, '--layer', layer, '--', 'sleep', '1000']).status, 0)
  const init = entry(f, 'planted').pid
  const [workload] = childrenOf(init)
  const want = restrictionsOf(workload)

  const r = f.nsx(['enter', 'planted', 'ps', 'aux'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, 'planted\n')
  const recorded = f.nsx(['exec', 'planted', 'cat', '/tmp/planted-ps-ran']).stdout
  assert.equal(recorded, `CapEff:\t${want.CapEff}\nCapBnd:\t${want.CapBnd}\nNoNewPrivs:\t${want.NoNewPrivs}\n`)
  assert.notEqual(want.CapEff, readFileSync('/proc/self/status', 'utf8').match(/^CapEff:\s*(\S+)/m)![1], 'the container must have fewer capabilities than the test')

  // `--` after the target ends nsx's part, as with nsenter.
  const dd = f.nsx(['enter', 'planted', '--', 'sh', '-c', 'grep -E "^(CapEff|NoNewPrivs)" /proc/self/status; cat /proc/self/cgroup | grep freezer'])
  assert.equal(dd.status, 0, dd.stderr)
  assert.equal(dd.stdout, `CapEff:\t${want.CapEff}\nNoNewPrivs:\t${want.NoNewPrivs}\n${want.cgroup.split('\n').find((l) => l.includes(':freezer:'))!.replace(/:\/.*$/, ':/')}\n`)
  // No command: the container's /bin/sh (not the host's $SHELL), reading stdin.
  const sh = f.nsx(['enter', 'planted'], {input: 'echo "$0"; echo $HOSTNAME; exit 3\n', env: {SHELL: '/bin/bash'}})
  assert.equal(sh.status, 3, sh.stderr)
  assert.equal(sh.stdout, '/bin/sh\nplanted\n')
  // --privileged: nsenter's full privileges, on purpose.
  const priv = f.nsx(['enter', '--privileged', 'planted', 'sh', '-c', 'grep ^CapEff /proc/self/status'])
  assert.equal(priv.stdout, readFileSync('/proc/self/status', 'utf8').match(/^CapEff:.*\n/m)![0])
  assertOneLineError(f.nsx(['enter', 'no-such-ctr', 'true']), 125, /^nsx enter: no such container: no-such-ctr /)
  assertOneLineError(f.nsx(['enter', '-n', 'planted', 'true']), 125, /^nsx enter: --net: nsx enter NAME runs with the container's restrictions/)
})

test("exec -it: a pty of the container's devpts (as docker exec -it), raw input, the window size following SIGWINCH, the exit code passed through; -t alone relays the output", async (t) => {
  if (!needContainerTools(t) || !needCommand(t, 'tmux', 'tmux')) return
  const f = fx!
  const tm = new Tmux(f.dir)
  t.after(() => {
    tm.kill()
    f.nsx(['stop', '-t', '0', 'ptyexec'])
  })
  assert.equal(f.nsx(['run', '-d', '--name', 'ptyexec', '--layer', f.base, '--', 'sleep', '1000']).status, 0)
  const status = join(f.dir, 'ptyexec.status')
  const env = Object.entries(f.env).filter(([k]) => k.startsWith('NSX')).map(([k, v]) => `${k}='${v}'`).join(' ')
  tm.start(`env ${env} ${process.execPath} ${NSX_BIN} exec -it ptyexec sh; echo $? > ${status}; sleep 600`, 100, 30)
  await tm.waitFor('the shell', (s) => /^\/ #/m.test(s))
  tm.keys('tty; stty size; echo at-$((6*7))', 'Enter')
  let screen = await tm.waitFor('tty and its size', (s) => /at-42/.test(s))
  // The container's own devpts (its first pty: the container has no other), the pane's size.
  assert.match(screen, /^\/dev\/pts\/0$/m)
  assert.match(screen, /^30 100$/m)
  // ^C reaches the container's terminal (raw mode), not nsx: the shell goes on.
  tm.keys('sleep 599', 'Enter')
  await waitFor(() => findInContainer(entry(f, 'ptyexec').pid, 'sleep 599') !== undefined, 15000, 'sleep 599 in the container')
  tm.keys('C-c')
  tm.keys('echo after-$((2*3))', 'Enter')
  await tm.waitFor('the shell surviving ^C', (s) => /after-6/.test(s))
  tm.resize(90, 25)
  tm.keys('clear; stty size', 'Enter')
  screen = await tm.waitFor('the new size', (s) => /^25 90$/m.test(s))
  tm.keys('exit 3', 'Enter')
  await waitFor(() => existsSync(status) && readFileSync(status, 'utf8').trim() !== '', 15000, 'the exit status')
  assert.equal(readFileSync(status, 'utf8').trim(), '3')
  // -t without -i: the output through the pty, stdin not read; the status passed on.
  const r = f.nsx(['exec', '-t', 'ptyexec', 'sh', '-c', 'tty; exit 4'])
  assert.equal(r.status, 4, r.stderr)
  assert.equal(r.stdout.replace(/\r/g, ''), '/dev/pts/0\n')
})
