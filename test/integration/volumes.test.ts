import {after, test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {spawnSync} from 'node:child_process'
import {assertOneLineError, needCommand} from '../helpers/env.js'
import {assertContainerGone, containerToolsPresent, containersNamed, Fixture, hostMountsMentioning, makeFixture, needContainerTools} from '../helpers/container.js'
import {buildBusyboxOci} from '../helpers/images.js'

/**
 * Named volumes (docker volume create/ls/inspect/rm/prune and -v NAME:/path): the mount seen
 * from inside the container, the image's content copied up across its layers (whiteouts and
 * opaque directories honoured), data outliving containers, anonymous volumes going with rm -v
 * and --rm, a volume in use refused, and nothing left in the store or the host's mounts.
 */

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-vol-') : undefined

function volumes(f: Fixture): string[] {
  try {
    return readdirSync(join(f.store, 'volumes')).sort()
  } catch {
    return []
  }
}

test('volume create, ls, inspect, rm and prune: docker\'s output, filters and exit codes', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => f.nsx(['volume', 'rm', '-f', 'alpha', 'beta']))
  assert.equal(f.nsx(['volume', 'create', 'alpha']).stdout, 'alpha\n')
  // docker's create is idempotent: the same name again is the same volume.
  const again = f.nsx(['volume', 'create', 'alpha'])
  assert.equal(again.status, 0, again.stderr)
  assert.equal(again.stdout, 'alpha\n')
  const b = f.nsx(['volume', 'create', '--label', 'team=web', '-l', 'tier', 'beta'])
  assert.equal(b.status, 0, b.stderr)
  const gen = f.nsx(['volume', 'create'])
  assert.match(gen.stdout, /^[0-9a-f]{64}\n$/)
  assert.equal(f.nsx(['volume', 'rm', gen.stdout.trim()]).status, 0)

  const ls = f.nsx(['volume', 'ls'])
  assert.equal(ls.status, 0, ls.stderr)
  assert.equal(ls.stdout, 'DRIVER    VOLUME NAME\nlocal     alpha\nlocal     beta\n')
  assert.equal(f.nsx(['volume', 'ls', '-q', '--filter', 'label=team=web']).stdout, 'beta\n')
  assert.equal(f.nsx(['volume', 'ls', '-q', '--filter', 'label=tier']).stdout, 'beta\n')
  assert.equal(f.nsx(['volume', 'ls', '-q', '--filter', 'name=alp']).stdout, 'alpha\n')
  assert.equal(f.nsx(['volume', 'ls', '-q', '--filter', 'dangling=true']).stdout, 'alpha\nbeta\n')
  assertOneLineError(f.nsx(['volume', 'ls', '--filter', 'colour=red']), 1, /invalid filter 'colour'/)

  const ins = f.nsx(['volume', 'inspect', 'beta'])
  assert.equal(ins.status, 0, ins.stderr)
  const [v] = JSON.parse(ins.stdout) as {Name: string; Driver: string; Mountpoint: string; Labels: Record<string, string>; Scope: string; CreatedAt: string}[]
  assert.equal(v.Name, 'beta')
  assert.equal(v.Driver, 'local')
  assert.equal(v.Scope, 'local')
  assert.deepEqual(v.Labels, {team: 'web', tier: ''})
  assert.equal(v.Mountpoint, join(f.store, 'volumes', 'beta', '_data'))
  assert.ok(statSync(v.Mountpoint).isDirectory())
  assert.ok(!Number.isNaN(Date.parse(v.CreatedAt)))

  // An unknown name: one line, exit 1; the known ones are still shown.
  const mixed = f.nsx(['volume', 'inspect', 'alpha', 'nope'])
  assert.equal(mixed.status, 1)
  assert.equal((JSON.parse(mixed.stdout) as unknown[]).length, 1)
  assert.match(mixed.stderr, /^nsx volume inspect: No such volume: nope\n$/)
  assertOneLineError(f.nsx(['volume', 'create', 'x']), 1, /includes invalid characters for a local volume name/)
  assertOneLineError(f.nsx(['volume', 'create', '-d', 'nfs', 'gamma']), 1, /driver "nfs" not found/)
  assertOneLineError(f.nsx(['volume', 'rm', 'nope']), 1, /No such volume: nope/)
  assert.equal(f.nsx(['volume', 'rm', '-f', 'nope']).status, 0)

  const pruned = f.nsx(['volume', 'prune', '-f', '--filter', 'label=team'])
  assert.equal(pruned.status, 0, pruned.stderr)
  assert.match(pruned.stdout, /^Deleted Volumes:\nbeta\n\nTotal reclaimed space: /)
  assert.deepEqual(volumes(f), ['alpha'])
  assert.equal(f.nsx(['volume', 'rm', 'alpha']).stdout, 'alpha\n')
  assert.deepEqual(volumes(f), [])
})

test('-v NAME:/path: mounted inside, filled from the image\'s merged layers, kept across containers, refused for removal while used', (t) => {
  if (!needContainerTools(t) || !needCommand(t, 'umoci', 'umoci')) return
  const f = fx!
  t.after(() => {
    f.nsx(['rm', '-f', 'vol-a', 'vol-b'])
    f.nsx(['volume', 'rm', '-f', 'etcold', 'shared'])
  })
  // Three layers: /etc/old holds a and b in layer 1 and is opaque with only c in layer 2.
  const layout = buildBusyboxOci(join(f.dir, 'img'))
  const load = f.nsx(['load', `${layout}:latest`])
  assert.equal(load.status, 0, load.stderr)
  const image = `${layout}:latest`

  // Copy-up: the volume gets what the image shows at /etc/old (c only), and the mount is the volume's directory.
  const r = f.nsx(['run', '--name', 'vol-a', '-v', 'etcold:/etc/old', image, 'sh', '-c', 'ls /etc/old; grep " /etc/old " /proc/self/mountinfo; echo kept > /etc/old/new'])
  assert.equal(r.status, 0, r.stderr)
  const [listing, mountLine] = [r.stdout.split('\n').slice(0, -2).join('\n'), r.stdout.split('\n').at(-2)!]
  assert.equal(listing, 'c')
  assert.ok(mountLine.includes(join(f.store, 'volumes', 'etcold', '_data')), mountLine)
  const data = join(f.store, 'volumes', 'etcold', '_data')
  assert.equal(readFileSync(join(data, 'c'), 'utf8'), 'c\n')
  assert.equal(readFileSync(join(data, 'new'), 'utf8'), 'kept\n')

  // In use by a stopped container: refused, exit 1, docker's words, nothing removed.
  const refused = f.nsx(['volume', 'rm', 'etcold'])
  assertOneLineError(refused, 1, /remove etcold: volume is in use - \[[0-9a-f]{64}\]/)
  assert.ok(existsSync(data))
  assert.equal(f.nsx(['volume', 'ls', '-q', '--filter', 'dangling=false']).stdout, 'etcold\n')
  const inspect = JSON.parse(f.nsx(['container', 'inspect', 'vol-a']).stdout) as {Mounts: {Type: string; Name: string; Destination: string}[]}[]
  assert.deepEqual(inspect[0].Mounts.map((m) => [m.Type, m.Name, m.Destination]), [['volume', 'etcold', '/etc/old']])

  // The data outlives the container; a second one sees it (no second copy-up: the volume is not empty), read-only with :ro.
  assert.equal(f.nsx(['rm', 'vol-a']).status, 0)
  const ro = f.nsx(['run', '--rm', '-v', 'etcold:/mnt:ro', image, 'sh', '-c', 'cat /mnt/new; ls /mnt; touch /mnt/x 2>/dev/null && echo writable || echo read-only'])
  assert.equal(ro.status, 0, ro.stderr)
  assert.equal(ro.stdout, 'kept\nc\nnew\nread-only\n')

  // A volume made by `volume create` is filled on first use too; :nocopy leaves it empty.
  assert.equal(f.nsx(['volume', 'create', 'shared']).status, 0)
  const nocopy = f.nsx(['run', '--rm', '-v', 'shared:/etc/old:nocopy', image, 'sh', '-c', 'ls -A /etc/old'])
  assert.equal(nocopy.status, 0, nocopy.stderr)
  assert.equal(nocopy.stdout, '')
  const two = f.nsx(['run', '-d', '--name', 'vol-b', '-v', 'shared:/srv', image, 'sh', '-c', 'sleep 1000'])
  assert.equal(two.status, 0, two.stderr)
  const seen = f.nsx(['exec', 'vol-b', 'sh', '-c', 'echo from-b > /srv/b; cat /srv/b'])
  assert.equal(seen.stdout, 'from-b\n')
  assert.equal(f.nsx(['volume', 'prune', '-f']).status, 0)
  assert.deepEqual(volumes(f), ['shared'], 'prune removed the unused etcold and kept the one in use')
  assert.equal(f.nsx(['rm', '-f', 'vol-b']).status, 0)
  assert.equal(readFileSync(join(f.store, 'volumes', 'shared', '_data', 'b'), 'utf8'), 'from-b\n')
  assert.equal(f.nsx(['volume', 'rm', 'shared']).status, 0)
  assert.deepEqual(volumes(f), [])
  assertContainerGone(f, 'vol-a')
  assertContainerGone(f, 'vol-b')
  assert.deepEqual(hostMountsMentioning(join(f.store, 'volumes')), [])
})

test('anonymous volumes (-v /path): kept by rm, removed by rm -v and with --rm containers', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => f.nsx(['rm', '-f', 'anon-a', 'anon-b']))
  assert.equal(f.nsx(['create', '--name', 'anon-a', '-v', '/data', '--layer', f.base, 'true']).status, 0)
  assert.equal(f.nsx(['create', '--name', 'anon-b', '-v', '/data', '--layer', f.base, 'true']).status, 0)
  const made = volumes(f)
  assert.equal(made.length, 2)
  for (const n of made) assert.match(n, /^[0-9a-f]{64}$/)
  // rm without -v keeps the volume (dangling), as docker does; rm -v removes it.
  assert.equal(f.nsx(['rm', 'anon-a']).status, 0)
  assert.equal(f.nsx(['volume', 'ls', '-q', '--filter', 'dangling=true']).stdout.split('\n').filter(Boolean).length, 1)
  assert.equal(f.nsx(['rm', '-v', 'anon-b']).status, 0)
  assert.equal(volumes(f).length, 1)
  assert.equal(f.nsx(['volume', 'prune', '-f']).status, 0)
  assert.deepEqual(volumes(f), [])
  // --rm: the supervisor removes the container's anonymous volume with it; a named one stays.
  const r = f.nsx(['run', '--rm', '--name', 'anon-c', '-v', '/scratch', '-v', 'named-c:/keep', '--layer', f.base, 'sh', '-c', 'echo x > /scratch/f; echo y > /keep/f'])
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(volumes(f), ['named-c'])
  assert.equal(f.nsx(['volume', 'rm', 'named-c']).status, 0)
  assertContainerGone(f, 'anon-c')
  assert.deepEqual(containersNamed(f.store, 'anon-a'), [])
})

test('an image\'s VOLUME: an anonymous volume per path not covered by -v, filled from the image, listed, removed by rm -v', (t) => {
  if (!needContainerTools(t) || !needCommand(t, 'umoci', 'umoci')) return
  const f = fx!
  t.after(() => {
    f.nsx(['rm', '-f', '-v', 'ivol-a', 'ivol-b'])
    f.nsx(['volume', 'rm', '-f', 'ivol-named'])
  })
  const layout = buildBusyboxOci(join(f.dir, 'ivol'))
  // VOLUME /etc/old and /srv/data (absent from the image: an empty volume, its directory made).
  const cfg = spawnSync('umoci', ['config', '--image', `${layout}:latest`, '--tag', 'vol', '--config.volume', '/etc/old', '--config.volume', '/srv/data/'], {encoding: 'utf8'})
  assert.equal(cfg.status, 0, cfg.stderr)
  const image = `${layout}:vol`
  const load = f.nsx(['load', image])
  assert.equal(load.status, 0, load.stderr)
  const before = volumes(f)
  const r = f.nsx(['run', '--name', 'ivol-a', image, 'sh', '-c', 'ls /etc/old; ls -A /srv/data; grep -c -E " /(etc/old|srv/data) " /proc/self/mountinfo; echo new > /etc/old/n'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, 'c\n2\n')
  const made = volumes(f).filter((v) => !before.includes(v))
  assert.equal(made.length, 2)
  for (const v of made) assert.match(v, /^[0-9a-f]{64}$/)
  const ls = f.nsx(['volume', 'ls', '-q']).stdout.split('\n').filter(Boolean)
  for (const v of made) assert.ok(ls.includes(v), `volume ls lists ${v}`)
  const inspect = JSON.parse(f.nsx(['container', 'inspect', 'ivol-a']).stdout) as {Mounts: {Type: string; Name: string; Destination: string}[]}[]
  assert.deepEqual(inspect[0].Mounts.map((m) => [m.Type, m.Destination]).sort(), [['volume', '/etc/old'], ['volume', '/srv/data']])
  const etcOld = inspect[0].Mounts.find((m) => m.Destination === '/etc/old')!.Name
  assert.equal(readFileSync(join(f.store, 'volumes', etcOld, '_data', 'n'), 'utf8'), 'new\n')
  // A -v of the same path (here a named volume) covers the image's: no anonymous one for it.
  const b = f.nsx(['create', '--name', 'ivol-b', '-v', 'ivol-named:/etc/old', image, 'true'])
  assert.equal(b.status, 0, b.stderr)
  const bMounts = (JSON.parse(f.nsx(['container', 'inspect', 'ivol-b']).stdout) as {Mounts: {Name: string; Destination: string}[]}[])[0].Mounts
  assert.deepEqual(bMounts.map((m) => m.Destination).sort(), ['/etc/old', '/srv/data'])
  assert.equal(bMounts.find((m) => m.Destination === '/etc/old')!.Name, 'ivol-named')
  // rm -v removes the anonymous ones and keeps the named one.
  assert.equal(f.nsx(['rm', '-v', 'ivol-a', 'ivol-b']).status, 0)
  assert.deepEqual(volumes(f).filter((v) => !before.includes(v)), ['ivol-named'])
  assert.deepEqual(hostMountsMentioning(join(f.store, 'volumes')), [])
})

test('bad -v values: one line, 125, nothing made', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  for (const [v, re] of [
    ['bad name:/x', /invalid volume 'bad name:\/x': "bad name" includes invalid characters/],
    ['vol:relative', /the container path must be absolute/],
    ['vol:/x:nocopy,zz', /unknown option 'zz'/],
    ['/host/does/not/exist:/x', /does not exist/],
  ] as const) {
    assertOneLineError(f.nsx(['run', '--rm', '-v', v, '--layer', f.base, 'true']), 125, re)
  }
  assert.deepEqual(volumes(f), [])
  assert.deepEqual(readdirSync(join(f.store, 'tmp')), [])
})
