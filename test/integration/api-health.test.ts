import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {api, ApiService, composeRunner, needCompose, needDockerCli, startApiService} from '../helpers/api.js'
import {buildBusyboxArchive} from '../helpers/busybox-image.js'
import {eventually, makeNetLab, needNetLab} from '../helpers/netns.js'

/**
 * Healthchecks through the Engine API: the docker CLI (20.10) builds an image with a HEALTHCHECK,
 * runs containers with it and with --health-*, reads State.Health with docker inspect, filters
 * docker ps by health and commits; docker-compose 1.29 starts a service only once the one it
 * depends on is healthy (condition: service_healthy). The service runs in the test's own network
 * lab (compose makes a network). Waits are on recorded state, polled with a deadline.
 */

const services: ApiService[] = []
after(async () => {
  for (const s of services) await s.stop()
})

test('docker build HEALTHCHECK, docker run --health-*, docker inspect State.Health, docker ps --filter health=, docker commit keeps it', async (t) => {
  if (!needNetLab(t)) return
  const docker = needDockerCli(t)
  if (!docker) return
  const lab = await makeNetLab(t)
  mkdirSync(join(lab.dir, 'img'), {recursive: true})
  assert.equal(lab.nsx(['load', '-i', buildBusyboxArchive(join(lab.dir, 'img'))]).status, 0)
  const svc = await startApiService(lab.dir, {...process.env, NSX_ROOT: lab.store, NO_COLOR: '1', NSX_NETWORK: 'none'}, lab.pid)
  services.push(svc)
  const dk = (args: string[], cwd?: string) => {
    const r = spawnSync(docker, args, {cwd, encoding: 'utf8', timeout: 120000, env: {...process.env, DOCKER_HOST: svc.host, DOCKER_CONFIG: join(lab.dir, 'docker-config'), DOCKER_BUILDKIT: '0'}})
    return {status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', text: `docker ${args.join(' ')}: ${r.status}\n${r.stdout}\n${r.stderr}\nservice:\n${svc.log().slice(-2000)}`}
  }
  const ctx = join(lab.dir, 'ctx')
  mkdirSync(ctx)
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nHEALTHCHECK --interval=150ms --timeout=2s --retries=2 CMD ["cat", "/tmp/ok"]\nCMD ["sleep", "1000"]\n')
  const b = dk(['build', '-q', '-t', 'checked', '.'], ctx)
  assert.equal(b.status, 0, b.text)
  const hc = dk(['image', 'inspect', '-f', '{{json .Config.Healthcheck}}', 'checked'])
  assert.deepEqual(JSON.parse(hc.stdout), {Test: ['CMD', 'cat', '/tmp/ok'], Interval: 150e6, Timeout: 2e9, Retries: 2}, hc.text)
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM checked\nHEALTHCHECK NONE\n')
  assert.equal(dk(['build', '-q', '-t', 'unchecked', '.'], ctx).status, 0)
  const badFile = join(lab.dir, 'bad')
  mkdirSync(badFile)
  writeFileSync(join(badFile, 'Dockerfile'), 'FROM busybox\nHEALTHCHECK --interval=5 CMD true\n')
  const bad = dk(['build', '-q', '.'], badFile)
  assert.notEqual(bad.status, 0)
  assert.match(bad.stdout + bad.stderr, /invalid --interval '5'/)

  const status = (name: string) => dk(['inspect', '--format', '{{.State.Health.Status}}', name]).stdout.trim()
  // The image's check: failing (no /tmp/ok) until the file is made, then healthy.
  const since = Math.floor(Date.now() / 1000)
  assert.equal(dk(['run', '-d', '--name', 'img', 'checked']).status, 0)
  assert.ok(await eventually(() => status('img') === 'unhealthy', 60000), dk(['inspect', 'img']).text)
  assert.equal(dk(['exec', 'img', 'touch', '/tmp/ok']).status, 0)
  assert.ok(await eventually(() => status('img') === 'healthy', 60000), dk(['inspect', 'img']).text)
  // Each change is an event, as docker's: health_status: unhealthy, then healthy.
  const events = () => dk(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'event=health_status', '--filter', 'container=img', '--format', '{{.Action}} {{.Actor.Attributes.name}}']).stdout
  assert.ok(await eventually(() => /health_status: healthy img/.test(events()), 30000), events())
  assert.deepEqual(events().trim().split('\n'), ['health_status: unhealthy img', 'health_status: healthy img'])
  const log = JSON.parse(dk(['inspect', '--format', '{{json .State.Health}}', 'img']).stdout) as {FailingStreak: number; Log: {ExitCode: number}[]}
  assert.equal(log.FailingStreak, 0)
  assert.equal(log.Log.at(-1)!.ExitCode, 0)
  // --health-* over the image's: the interval and retries given, the image's test kept.
  assert.equal(dk(['run', '-d', '--name', 'flags', '--health-retries', '1', '--health-interval', '100ms', 'checked']).status, 0)
  const cfg = JSON.parse(dk(['inspect', '--format', '{{json .Config.Healthcheck}}', 'flags']).stdout)
  assert.deepEqual(cfg, {Test: ['CMD', 'cat', '/tmp/ok'], Interval: 100e6, Timeout: 2e9, Retries: 1})
  assert.ok(await eventually(() => status('flags') === 'unhealthy', 60000), dk(['inspect', 'flags']).text)
  // A shell command of --health-cmd; NONE from an image; --no-healthcheck.
  assert.equal(dk(['run', '-d', '--name', 'shell', '--health-cmd', 'echo from $HOSTNAME', '--health-interval', '100ms', 'busybox', 'sleep', '1000']).status, 0)
  assert.ok(await eventually(() => status('shell') === 'healthy', 60000), dk(['inspect', 'shell']).text)
  assert.match(dk(['inspect', '--format', '{{(index .State.Health.Log 0).Output}}', 'shell']).stdout, /^from shell\n/)
  assert.equal(dk(['run', '-d', '--name', 'none', 'unchecked']).status, 0)
  assert.equal(dk(['inspect', '--format', '{{json .Config.Healthcheck.Test}} {{.State.Health}}', 'none']).stdout.trim(), '["NONE"] <nil>')
  // docker ps: STATUS and the health filter.
  const ps = dk(['ps', '--format', '{{.Names}} {{.Status}}'])
  assert.match(ps.stdout, /^img Up .* \(healthy\)$/m, ps.text)
  assert.match(ps.stdout, /^flags Up .* \(unhealthy\)$/m, ps.text)
  assert.match(ps.stdout, /^none Up [^(]*$/m, ps.text)
  const byHealth = (v: string) => dk(['ps', '--filter', `health=${v}`, '--format', '{{.Names}}']).stdout.split('\n').filter(Boolean).sort()
  assert.deepEqual(byHealth('healthy'), ['img', 'shell'])
  assert.deepEqual(byHealth('unhealthy'), ['flags'])
  assert.deepEqual(byHealth('none'), ['none'])
  // The API's create checks what it is given, as docker's daemon.
  const r = await api(svc.socket, 'POST', '/v1.41/containers/create', JSON.stringify({Image: 'busybox', Healthcheck: {Test: ['CMD', 'true'], Interval: 1000}}))
  assert.deepEqual([r.status, JSON.parse(r.body).message], [400, 'Interval in Healthcheck cannot be less than 1ms'])
  // docker commit keeps the container's healthcheck.
  assert.equal(dk(['commit', 'flags', 'committed']).status, 0)
  assert.deepEqual(JSON.parse(dk(['image', 'inspect', '-f', '{{json .Config.Healthcheck}}', 'committed']).stdout), cfg)
  assert.equal(dk(['rm', '-f', 'img', 'flags', 'shell', 'none']).status, 0)
})

test('docker-compose 1.29: depends_on condition service_healthy starts a service once the other is healthy', async (t) => {
  if (!needNetLab(t)) return
  if (!needCompose(t)) return
  const docker = needDockerCli(t)
  if (!docker) return
  const lab = await makeNetLab(t)
  mkdirSync(join(lab.dir, 'img'), {recursive: true})
  assert.equal(lab.nsx(['load', '-i', buildBusyboxArchive(join(lab.dir, 'img'))]).status, 0)
  const svc = await startApiService(lab.dir, {...process.env, NSX_ROOT: lab.store, NO_COLOR: '1', NSX_NETWORK: 'bridge'}, lab.pid)
  services.push(svc)
  const proj = join(lab.dir, 'proj')
  mkdirSync(proj)
  writeFileSync(
    join(proj, 'docker-compose.yml'),
    `version: "2.4"
services:
  db:
    image: busybox
    command: ["sh", "-c", "sleep 1; touch /tmp/ready; exec sleep 1000"]
    healthcheck:
      test: ["CMD", "cat", "/tmp/ready"]
      interval: 200ms
      timeout: 5s
      retries: 50
  app:
    image: busybox
    command: ["sleep", "1000"]
    depends_on:
      db:
        condition: service_healthy
`,
  )
  const compose = composeRunner(proj, 'nsxh', svc, docker)
  try {
    const up = compose(['up', '-d'])
    assert.equal(up.status, 0, up.text)
    const inspect = (name: string) => JSON.parse(lab.nsx(['container', 'inspect', name]).stdout)[0] as {State: {StartedAt: string; Health?: {Status: string; Log: {End: string; ExitCode: number}[]}}}
    const db = inspect('nsxh_db_1')
    const app = inspect('nsxh_app_1')
    assert.equal(db.State.Health!.Status, 'healthy')
    // db cannot pass before its command made /tmp/ready, a second after it started: app was started after that.
    assert.ok(Date.parse(app.State.StartedAt) >= Date.parse(db.State.StartedAt) + 1000, `app started ${app.State.StartedAt}, db ${db.State.StartedAt}`)
    assert.match(compose(['ps']).stdout, /nsxh_db_1 .* Up \(healthy\)/)
    const down = compose(['down', '-t', '0'])
    assert.equal(down.status, 0, down.text)
  } finally {
    compose(['down', '-t', '0'])
  }
})
