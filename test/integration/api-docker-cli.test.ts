import {test, after, before} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, spawnSync, SpawnSyncOptions} from 'node:child_process'
import {mkdirSync} from 'node:fs'
import {request} from 'node:http'
import {connect} from 'node:net'
import {join} from 'node:path'
import {api, ApiService, dockerCli, startApiService} from '../helpers/api.js'
import {buildBusyboxArchive} from '../helpers/busybox-image.js'
import {containerToolsPresent, Fixture, makeFixture, processesMentioning} from '../helpers/container.js'
import {IN_CI} from '../helpers/env.js'
import {Tmux} from '../helpers/tmux.js'

/**
 * The Engine API driven by the real docker CLI (20.10, Debian's docker.io client only): the seeds'
 * workflow, each result checked, the same containers seen by nsx ps; and hostile input that must
 * leave the service answering and nothing half-made.
 */

const ready = containerToolsPresent()
const fx: Fixture | undefined = ready ? makeFixture(after, 'nsx-api-') : undefined
let svc: ApiService | undefined
let docker: string
after(() => svc?.stop())

before(async () => {
  if (!fx) return
  docker = dockerCli()
  mkdirSync(join(fx.dir, 'img'), {recursive: true})
  const archive = buildBusyboxArchive(join(fx.dir, 'img'))
  const l = fx.nsx(['load', '-i', archive])
  assert.equal(l.status, 0, l.stderr)
  svc = await startApiService(fx.dir, fx.env)
  mkdirSync(join(fx.dir, 'docker-config'), {recursive: true})
})

function skip(t: {skip(m: string): void}): boolean {
  if (fx) return false
  if (IN_CI) assert.fail('the Engine API tests need root, gcc and busybox-static')
  t.skip('needs root, gcc and busybox-static')
  return true
}

function dk(args: string[], opts: SpawnSyncOptions = {}) {
  const r = spawnSync(docker, args, {encoding: 'utf8', timeout: 60000, ...opts, env: {...process.env, DOCKER_HOST: svc!.host, DOCKER_CONFIG: join(fx!.dir, 'docker-config'), ...(opts.env ?? {})}})
  return {status: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '')}
}

interface PsEntry {name: string; id: string; state: string; exitCode: number | null; labels: Record<string, string>}
const nsxPs = (): PsEntry[] => JSON.parse(fx!.nsx(['ps', '-a', '--json']).stdout) as PsEntry[]

test('the docker CLI negotiates API 1.41 and sees nsx as its engine; unversioned paths are served too', async (t) => {
  if (skip(t)) return
  const v = dk(['version', '--format', '{{.Server.APIVersion}} {{.Client.APIVersion}}'])
  assert.equal(v.status, 0, v.stderr)
  assert.equal(v.stdout.trim(), '1.41 1.41')
  const ping = await api(svc!.socket, 'HEAD', '/_ping')
  assert.equal(ping.status, 200)
  assert.equal(ping.headers['api-version'], '1.41')
  assert.equal(ping.headers['builder-version'], '1')
  const list = await api(svc!.socket, 'GET', '/containers/json?all=True')
  assert.equal(list.status, 200)
  assert.ok(Array.isArray(JSON.parse(list.body)))
  const swarm = await api(svc!.socket, 'GET', '/v1.41/swarm')
  assert.equal(swarm.status, 503)
  assert.match(JSON.parse(swarm.body).message, /not a swarm manager/)
  const session = await api(svc!.socket, 'POST', '/session')
  assert.equal(session.status, 501)
  const tooNew = await api(svc!.socket, 'GET', '/v1.99/version')
  assert.equal(tooNew.status, 400)
})

test('run -d, ps, logs, exec, stop, start, rm through the docker CLI: the same container in nsx ps', async (t) => {
  if (skip(t)) return
  const r = dk(['run', '-d', '--name', 'web', '--label', 'tier=front', 'busybox', 'sh', '-c', 'echo ready; echo oops >&2; while true; do sleep 1; done'])
  assert.equal(r.status, 0, r.stderr)
  const id = r.stdout.trim()
  assert.match(id, /^[0-9a-f]{64}$/)
  let e = nsxPs().find((x) => x.name === 'web')
  assert.equal(e?.id, id)
  assert.equal(e?.state, 'running')
  assert.deepEqual(e?.labels, {tier: 'front'})
  const ps = dk(['ps', '--filter', 'label=tier=front', '--format', '{{.ID}} {{.Names}} {{.Status}}'])
  assert.match(ps.stdout, new RegExp(`^${id.slice(0, 12)} web Up`))
  assert.equal(dk(['ps', '-q', '--filter', 'label=tier=back']).stdout.trim(), '')
  // Output reaches the log: wait for it, then check the two streams come apart.
  for (let i = 0; i < 100 && !dk(['logs', 'web']).stdout.includes('ready'); i++) await new Promise((res) => setTimeout(res, 100))
  const logs = dk(['logs', 'web'])
  assert.equal(logs.stdout, 'ready\n')
  assert.equal(logs.stderr, 'oops\n')
  assert.match(dk(['logs', '-t', 'web']).stdout, /^\d{4}-\d\d-\d\dT[\d:.]+Z ready\n$/)
  const ex = dk(['exec', 'web', 'cat', '/etc/hostname'])
  assert.equal(ex.status, 0, ex.stderr)
  assert.equal(dk(['exec', 'web', 'sh', '-c', 'exit 3']).status, 3)
  // -t: a pseudo-terminal of the container's own devpts; without it, none.
  assert.match(dk(['exec', '-t', 'web', 'sh', '-c', 'test -t 1 && readlink /proc/self/fd/1']).stdout, /^\/dev\/pts\/\d+\r\n$/)
  assert.equal(dk(['exec', 'web', 'sh', '-c', 'test -t 1 || echo no-tty']).stdout, 'no-tty\n')
  assert.equal(dk(['exec', '-i', 'web', 'cat'], {input: 'through stdin\n'}).stdout, 'through stdin\n')
  const insp = JSON.parse(dk(['inspect', 'web']).stdout)[0]
  assert.equal(insp.Id, id)
  assert.equal(insp.State.Running, true)
  assert.deepEqual(insp.Config.Labels, {tier: 'front'})
  // logs -f follows until the container stops.
  const follow = spawn(docker, ['logs', '-f', 'web'], {env: {...process.env, DOCKER_HOST: svc!.host, DOCKER_CONFIG: join(fx!.dir, 'docker-config')}})
  let followed = ''
  follow.stdout.on('data', (d: Buffer) => (followed += d.toString()))
  const followEnd = new Promise<number | null>((res) => follow.once('exit', (c) => res(c)))
  const stop = dk(['stop', '-t', '1', 'web'])
  assert.equal(stop.status, 0, stop.stderr)
  assert.equal(await followEnd, 0)
  assert.equal(followed, 'ready\n')
  e = nsxPs().find((x) => x.name === 'web')
  assert.equal(e?.state, 'exited')
  assert.equal(dk(['start', 'web']).status, 0)
  assert.equal(nsxPs().find((x) => x.name === 'web')?.state, 'running')
  const rm = dk(['rm', '-f', 'web'])
  assert.equal(rm.status, 0, rm.stderr)
  assert.equal(nsxPs().find((x) => x.name === 'web'), undefined)
  assert.deepEqual(processesMentioning(id), [])
})

test('docker run in the foreground: output, exit status, --rm removes it', (t) => {
  if (skip(t)) return
  const r = dk(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, 'out\n')
  assert.equal(r.stderr, 'err\n')
  const five = dk(['run', '--name', 'five', 'busybox', 'sh', '-c', 'exit 5'])
  assert.equal(five.status, 5)
  assert.equal(nsxPs().find((x) => x.name === 'five')?.exitCode, 5)
  assert.equal(dk(['rm', 'five']).status, 0)
  assert.equal(nsxPs().length, 0)
  // --rm: the container is gone when wait (condition=removed) answers; its code still comes back.
  const three = dk(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3'])
  assert.equal(three.status, 3, three.stderr)
  assert.equal(nsxPs().length, 0)
  const missing = dk(['run', '--rm', 'no-such-image-here'])
  assert.notEqual(missing.status, 0)
  assert.equal(nsxPs().length, 0)
})

test('attach with the detach keys, and exec -it, in a real terminal', async (t) => {
  if (skip(t)) return
  const r = dk(['run', '-dit', '--name', 'term', 'busybox', 'sh'])
  assert.equal(r.status, 0, r.stderr)
  const tmux = new Tmux(fx!.dir)
  t.after(() => tmux.kill())
  const env = `DOCKER_HOST=${svc!.host} DOCKER_CONFIG=${join(fx!.dir, 'docker-config')}`
  tmux.start(`env ${env} ${docker} attach term; echo attach-ended-$?; sleep 60`, 100, 30)
  await tmux.waitRaw('docker attach to connect')
  tmux.keys('echo abc$((40+2))', 'Enter')
  await tmux.waitFor('the shell to answer', (s) => s.includes('abc42'))
  tmux.keys('C-p', 'C-q')
  await tmux.waitFor('attach to end on the detach keys', (s) => /attach-ended-\d+/.test(s))
  assert.equal(nsxPs().find((x) => x.name === 'term')?.state, 'running', 'detaching leaves the container running')
  const tmux2 = new Tmux(fx!.dir)
  t.after(() => tmux2.kill())
  tmux2.start(`env ${env} ${docker} exec -it term sh -c 'echo in-exec-$((6*7)); read x; echo got-$x'; echo exec-ended-$?; sleep 60`, 100, 30)
  await tmux2.waitFor('exec output', (s) => s.includes('in-exec-42'))
  tmux2.keys('hello', 'Enter')
  await tmux2.waitFor('exec to read its input and end', (s) => s.includes('got-hello') && s.includes('exec-ended-0'))
  assert.equal(dk(['rm', '-f', 'term']).status, 0)
})

test('hostile input: one error each, the service goes on, nothing half-made', async (t) => {
  if (skip(t)) return
  const before = nsxPs().length
  const bad = await api(svc!.socket, 'POST', '/v1.41/containers/create', '{"Image": "busybox", ')
  assert.equal(bad.status, 400)
  assert.match(JSON.parse(bad.body).message, /invalid JSON/)
  const big = await api(svc!.socket, 'POST', '/v1.41/containers/create', JSON.stringify({Image: 'busybox', Env: [`X=${'x'.repeat(5 * 1024 * 1024)}`]}))
  assert.equal(big.status, 413)
  const noImage = await api(svc!.socket, 'POST', '/containers/create', JSON.stringify({Image: 'nothing-like-it'}))
  assert.equal(noImage.status, 404)
  assert.match(JSON.parse(noImage.body).message, /No such image: nothing-like-it/)
  const badOpt = await api(svc!.socket, 'POST', '/containers/create', JSON.stringify({Image: 'busybox', HostConfig: {Memory: -5}}))
  assert.equal(badOpt.status, 400, badOpt.body)
  for (const [method, path] of [['GET', '/containers/nope/json'], ['POST', '/containers/nope/start'], ['GET', '/containers/nope/logs?stdout=1'], ['POST', '/containers/nope/wait'], ['DELETE', '/containers/nope'], ['GET', '/exec/nope/json']] as const) {
    const r = await api(svc!.socket, method, path)
    assert.equal(r.status, 404, `${method} ${path}: ${r.body}`)
    assert.match(JSON.parse(r.body).message, /No such (container|exec instance): nope/)
  }
  assert.equal((await api(svc!.socket, 'GET', '/no/such/path')).status, 404)
  assert.equal(nsxPs().length, before, 'no container was made by a failed create')
  // A client that drops mid-logs and mid-attach: the container keeps running, the service answers.
  const r = dk(['run', '-d', '--name', 'chatty', 'busybox', 'sh', '-c', 'while true; do echo tick; sleep 0.2; done'])
  assert.equal(r.status, 0, r.stderr)
  for (const path of ['/containers/chatty/logs?stdout=1&follow=1', '/containers/chatty/attach?stream=1&stdout=1']) {
    await new Promise<void>((resolve, reject) => {
      const req = request({socketPath: svc!.socket, method: path.includes('attach') ? 'POST' : 'GET', path}, (res) => {
        res.once('data', () => {
          req.destroy()
          resolve()
        })
      })
      req.on('error', (e) => (/socket hang up|aborted/.test(e.message) ? resolve() : reject(e)))
      req.end()
    })
  }
  assert.equal((await api(svc!.socket, 'GET', '/_ping')).body, 'OK')
  assert.equal(nsxPs().find((x) => x.name === 'chatty')?.state, 'running')
  assert.equal(dk(['rm', '-f', 'chatty']).status, 0)
  assert.equal(svc!.proc.exitCode, null, 'the service is still running')
  // Each state change was logged with the caller's uid and pid.
  assert.match(svc!.log(), /POST \/v1\.41\/containers\/create\S* uid=0 pid=\d+/)
})

test('create waits for the store lock (a long build, an nsx load) without blocking the service', async (t) => {
  if (skip(t)) return
  // Another process holds the store's lock exclusively, as nsx rmi or gc would, until told to let go.
  const holder = spawn('flock', ['-x', join(fx!.env.NSX_ROOT!, 'lock'), 'sh', '-c', 'echo locked; read x'], {stdio: ['pipe', 'pipe', 'inherit']})
  t.after(() => {
    if (holder.exitCode === null) holder.kill()
  })
  await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()))
  let settled = false
  const created = api(svc!.socket, 'POST', '/containers/create?name=locked-out', JSON.stringify({Image: 'busybox', Cmd: ['true']})).finally(() => (settled = true))
  // While create waits, the service answers others: its event loop is free.
  for (let i = 0; i < 3; i++) assert.equal((await api(svc!.socket, 'GET', '/_ping')).body, 'OK')
  assert.equal((await api(svc!.socket, 'GET', '/containers/json?all=1')).status, 200)
  assert.equal(settled, false, 'create did not wait for the lock')
  holder.stdin.end('\n')
  const r = await created
  assert.equal(r.status, 201, r.body)
  assert.equal(dk(['rm', 'locked-out']).status, 0)
})

test('exec start: a body that comes after the head, then stdin through the upgraded socket (the input is not lost)', async (t) => {
  if (skip(t)) return
  assert.equal(dk(['run', '-d', '--name', 'split', 'busybox', 'sleep', '1000']).status, 0)
  t.after(() => dk(['rm', '-f', 'split']))
  const ex = await api(svc!.socket, 'POST', '/containers/split/exec', JSON.stringify({Cmd: ['sh', '-c', 'read x; echo got-$x'], AttachStdin: true, AttachStdout: true, AttachStderr: true}))
  assert.equal(ex.status, 201, ex.body)
  const id = JSON.parse(ex.body).Id as string
  const body = JSON.stringify({Detach: false, Tty: false})
  const out = await new Promise<string>((resolve, reject) => {
    const s = connect(svc!.socket)
    let got = ''
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1')
      // Once the 101 is read, the input goes through the same socket.
      if (got.includes('101 UPGRADED') && !got.includes('sent')) {
        got += 'sent'
        s.write('hello\n')
      }
    })
    s.on('end', () => resolve(got))
    s.on('error', reject)
    // Input that is never read would leave the exec waiting: the connection is given up, and the check below fails.
    s.setTimeout(30000, () => {
      s.destroy()
      resolve(got)
    })
    s.write(`POST /v1.41/exec/${id}/start HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`)
    // The body in a later write than the head: the service reads it from the socket itself.
    setTimeout(() => s.write(body), 200)
  })
  assert.match(out, /got-hello/)
})

/** `docker events ARGS` followed until a line holding `last` comes (a minute at most, then a failure saying what came); its lines. */
async function eventsUntil(t: {after(fn: () => void): void}, args: string[], last: string): Promise<string[]> {
  const ev = spawn(docker, ['events', ...args], {env: {...process.env, DOCKER_HOST: svc!.host, DOCKER_CONFIG: join(fx!.dir, 'docker-config')}})
  t.after(() => {
    if (ev.exitCode === null) ev.kill()
  })
  let seen = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`events seen: ${JSON.stringify(seen)}`)), 60000)
    ev.stdout.on('data', (d: Buffer) => {
      seen += d.toString()
      // The whole line: a read can end inside it ('volume destroy' before ' evvol <no value>').
      const at = seen.indexOf(last)
      if (at >= 0 && seen.indexOf('\n', at) >= 0) {
        clearTimeout(timer)
        resolve()
      }
    })
  })
  ev.kill()
  return seen.trim().split('\n')
}

test('docker events: images tagged and untagged, a volume made, mounted and removed, by either door', async (t) => {
  if (skip(t)) return
  const since = (Date.now() / 1000 - 0.001).toFixed(3)
  const id = dk(['image', 'inspect', '--format', '{{.Id}}', 'busybox']).stdout.trim()
  assert.match(id, /^sha256:[0-9a-f]{64}$/)
  assert.equal(fx!.nsx(['tag', 'busybox', 'ev/one:1']).status, 0)
  assert.equal(dk(['tag', 'busybox', 'ev/two:2']).status, 0)
  assert.equal(dk(['rmi', 'ev/one:1']).status, 0)
  assert.equal(fx!.nsx(['rmi', 'ev/two:2']).status, 0)
  assert.equal(fx!.nsx(['volume', 'create', 'evvol']).status, 0)
  const run = dk(['run', '--rm', '-v', 'evvol:/data', 'busybox', 'true'])
  assert.equal(run.status, 0, run.stderr)
  assert.equal(dk(['volume', 'rm', 'evvol']).status, 0)
  const seen = await eventsUntil(t, ['--since', since, '--filter', 'type=image', '--filter', 'type=volume', '--format', '{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}'], 'volume destroy')
  assert.deepEqual(seen, [
    `image tag ${id} ev/one:1`, `image tag ${id} ev/two:2`, `image untag ${id} ${id}`, `image untag ${id} ${id}`,
    'volume create evvol <no value>', 'volume mount evvol <no value>', 'volume unmount evvol <no value>', 'volume destroy evvol <no value>',
  ])
})

test('docker events: what either door did, replayed from --since then live, filtered, with labels kept to the destroy (under load)', async (t) => {
  if (skip(t)) return
  // Two busy loops on a two-core machine: the watcher must miss nothing when the service is slow.
  const hogs = [spawn('yes', {stdio: 'ignore'}), spawn('yes', {stdio: 'ignore'})]
  t.after(() => {
    for (const h of hogs) if (h.pid !== undefined && h.exitCode === null) process.kill(h.pid, 'SIGKILL')
  })
  // Before anything happens: --since replays what came before the stream opened, so no wait for it.
  const since = (Date.now() / 1000 - 0.001).toFixed(3)
  assert.equal(dk(['run', '--rm', '--label', 'watch=yes', '--name', 'ev-docker', 'busybox', 'true']).status, 0)
  assert.equal(dk(['run', '--rm', '--name', 'ev-unlabelled', 'busybox', 'true']).status, 0)
  assert.equal(fx!.nsx(['run', '--rm', '--label', 'watch=yes', '--name', 'ev-nsx', 'busybox', 'true']).status, 0)
  assert.equal(dk(['run', '-d', '--label', 'watch=yes', '--name', 'ev-kill', 'busybox', 'sleep', '1000']).status, 0)
  assert.equal(fx!.nsx(['kill', 'ev-kill']).status, 0)
  assert.equal(dk(['rm', 'ev-kill']).status, 0)
  const want = [
    'create ev-docker', 'start ev-docker', 'die ev-docker', 'destroy ev-docker',
    'create ev-nsx', 'start ev-nsx', 'die ev-nsx', 'destroy ev-nsx',
    'create ev-kill', 'start ev-kill', 'kill ev-kill', 'die ev-kill', 'destroy ev-kill',
  ]
  const seen = await eventsUntil(t, ['--since', since, '--filter', 'type=container', '--filter', 'label=watch=yes', '--format', '{{.Action}} {{.Actor.Attributes.name}}'], 'destroy ev-kill')
  assert.deepEqual(seen, want)
  // Past events, up to now: a finite stream; nsx events shows the same.
  const until = String(Math.ceil(Date.now() / 1000))
  const past = dk(['events', '--since', since, '--until', until, '--filter', 'container=ev-nsx', '--format', '{{.Action}} {{.Actor.Attributes.watch}}'])
  assert.equal(past.status, 0, past.stderr)
  assert.deepEqual(past.stdout.trim().split('\n'), ['create yes', 'start yes', 'die yes', 'destroy yes'])
  const mine = fx!.nsx(['events', '--since', since, '--until', until, '--filter', 'label=watch=yes', '--filter', 'event=kill', '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.signal}}'])
  assert.equal(mine.status, 0, mine.stderr)
  assert.equal(mine.stdout, 'container kill ev-kill 9\n')
})
