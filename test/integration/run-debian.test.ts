import {test, after, TestContext} from 'node:test'
import assert from 'node:assert/strict'
import {hostname as osHostname} from 'node:os'
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {needCommand, run} from '../helpers/env.js'
import {containerToolsPresent, Fixture, makeFixture, needContainerTools} from '../helpers/container.js'
import {readCgroupLayout} from '../../src/cgroup/hierarchy.js'

/**
 * A real distribution in a container (issue 19): a Debian bookworm root filesystem made
 * by mmdebstrap --variant=apt from the Debian mirror this machine's apt uses, imported
 * with nsx import, then what a distribution expects of its container. The rootfs is
 * cached between runs outside the repository (NSX_TEST_CACHE, else /var/cache/nsx-test),
 * keyed by the day and the mirror; making it is timed and the time printed.
 */

const CACHE = process.env.NSX_TEST_CACHE ?? '/var/cache/nsx-test'
const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-debian-') : undefined
const IMAGE = `nsx-test/debian:bookworm-${process.pid}`

/**
 * The Debian archive apt uses here: the first bookworm entry of /etc/apt/sources.list or
 * sources.list.d (one-line and deb822 formats) that is not the security archive.
 */
function debianMirror(): string {
  const texts: string[] = []
  const read = (p: string) => {
    try {
      texts.push(readFileSync(p, 'utf8'))
    } catch {
      // absent
    }
  }
  read('/etc/apt/sources.list')
  let names: string[] = []
  try {
    names = readdirSync('/etc/apt/sources.list.d').sort()
  } catch {
    // none
  }
  for (const n of names) if (n.endsWith('.list') || n.endsWith('.sources')) read(join('/etc/apt/sources.list.d', n))
  const candidates: {uri: string; suites: string[]}[] = []
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line)
      if (m) candidates.push({uri: m[1], suites: [m[2]]})
    }
    for (const stanza of text.split(/\n\s*\n/)) {
      const field = (k: string) => new RegExp(`^${k}:\\s*(.+)$`, 'mi').exec(stanza)?.[1].trim()
      if (!/^Types:.*\bdeb\b/mi.test(stanza) || /^Enabled:\s*no/mi.test(stanza)) continue
      for (const uri of (field('URIs') ?? '').split(/\s+/).filter(Boolean)) candidates.push({uri, suites: (field('Suites') ?? '').split(/\s+/)})
    }
  }
  const hit = candidates.find((c) => c.suites.includes('bookworm') && /^https?:\/\//.test(c.uri) && !/security/.test(c.uri))
  return (hit?.uri ?? 'http://deb.debian.org/debian').replace(/\/+$/, '')
}

let rootfs: string | undefined
/** The cached bookworm tar, made with mmdebstrap when today's is missing (timed). */
function bookwormTar(t: TestContext): string | undefined {
  if (!needContainerTools(t) || !needCommand(t, 'mmdebstrap', 'mmdebstrap')) return undefined
  if (rootfs) return rootfs
  const mirror = debianMirror()
  const day = new Date().toISOString().slice(0, 10)
  const key = `bookworm-apt-${day}-${createHash('sha256').update(mirror).digest('hex').slice(0, 12)}.tar`
  const file = join(CACHE, key)
  mkdirSync(CACHE, {recursive: true, mode: 0o755})
  if (existsSync(file)) {
    console.log(`# Debian rootfs: cached ${file} (${(statSync(file).size / 1e6).toFixed(0)} MB, mirror ${mirror}); mmdebstrap not run`)
    return (rootfs = file)
  }
  const partial = `${file}.${process.pid}.partial`
  const start = Date.now()
  const r = run('mmdebstrap', ['--quiet', '--variant=apt', '--format=tar', 'bookworm', partial, mirror], {encoding: 'utf8', timeout: 20 * 60 * 1000})
  const seconds = (Date.now() - start) / 1000
  if (r.status !== 0) {
    rmSync(partial, {force: true})
    assert.fail(`mmdebstrap failed after ${seconds.toFixed(0)} s (mirror ${mirror}): ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`)
  }
  renameSync(partial, file)
  // One rootfs per mirror is enough: older days' go.
  for (const n of readdirSync(CACHE)) if (n.startsWith('bookworm-apt-') && n !== key && n.endsWith(key.slice(-17))) rmSync(join(CACHE, n), {force: true})
  console.log(`# Debian rootfs: mmdebstrap --variant=apt bookworm took ${seconds.toFixed(1)} s (${(statSync(file).size / 1e6).toFixed(0)} MB, mirror ${mirror}), cached as ${file}`)
  return (rootfs = file)
}

let imported = false
function debianImage(t: TestContext): Fixture | undefined {
  const tar = bookwormTar(t)
  if (!tar) return undefined
  const f = fx!
  if (!imported) {
    const start = Date.now()
    const r = f.nsx(['import', '-c', 'CMD ["/bin/bash"]', tar, IMAGE], {timeout: 10 * 60 * 1000})
    assert.equal(r.status, 0, r.stderr)
    console.log(`# nsx import of the Debian rootfs: ${((Date.now() - start) / 1000).toFixed(1)} s`)
    imported = true
  }
  return f
}

function runDebian(f: Fixture, args: string[], script: string, timeout = 120000) {
  return f.nsx(['run', ...args, '--image', IMAGE, '--', 'sh', '-c', script], {timeout})
}

test('bookworm imported with nsx import: nsx images lists it', (t) => {
  const f = debianImage(t)
  if (!f) return
  const images = JSON.parse(f.nsx(['images', '--json']).stdout) as {images: {names: string[]; layers: string[]}[]}
  const img = images.images.find((i) => i.names.includes(IMAGE))
  assert.ok(img, 'listed')
  assert.equal(img.layers.length, 1)
  const os = runDebian(f, [], '. /etc/os-release; echo $VERSION_CODENAME')
  assert.equal(os.status, 0, os.stderr)
  assert.equal(os.stdout, 'bookworm\n')
})

test("getent hosts localhost and the hostname answer; /etc/hostname is what hostname says (none and host networks)", (t) => {
  const f = debianImage(t)
  if (!f) return
  for (const net of ['none', 'host']) {
    const r = runDebian(f, ['--network', net, '--name', `deb-getent-${net}`], 'getent hosts localhost "$(hostname)"; echo ==; cat /etc/hostname; hostname')
    assert.equal(r.status, 0, `--network ${net}: ${r.stderr}`)
    const [hosts, names] = r.stdout.split('==\n')
    const lines = hosts.trim().split('\n')
    assert.ok(lines.some((l) => /^(127\.0\.0\.1|::1)\s+localhost/.test(l)), `localhost: ${hosts}`)
    // As docker: the container's name is its hostname, but with the host's network the host's is.
    const expected = net === 'host' ? osHostname() : `deb-getent-${net}`
    assert.ok(lines.some((l) => l.split(/\s+/).slice(1).includes(expected)), `the hostname: ${hosts}`)
    const [file, uname] = names.trim().split('\n')
    assert.equal(file, uname)
    assert.equal(uname, expected)
  }
})

test('the memory and CPU limits are read back from /sys/fs/cgroup inside', (t) => {
  const f = debianImage(t)
  if (!f) return
  const v2 = readCgroupLayout().mode === 'v2'
  const script = v2 ? 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max' : 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us'
  const r = runDebian(f, ['-m', '256m', '--cpus', '1.5'], script)
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(r.stdout.trim().split('\n'), v2 ? ['268435456', '150000 100000'] : ['268435456', '150000', '100000'])
})

test("the init's and the workload's CapEff, CapBnd and NoNewPrivs are equal", (t) => {
  const f = debianImage(t)
  if (!f) return
  const r = runDebian(f, [], 'grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/1/status; echo ==; grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status; echo ==; tr "\\0" " " </proc/1/cmdline')
  assert.equal(r.status, 0, r.stderr)
  const [init, self, cmdline] = r.stdout.split('==\n')
  assert.equal(init, self)
  assert.match(init, /^NoNewPrivs:\t1$/m)
  assert.equal(cmdline, 'nsx-init ')
})

test('apt-get install -y psmisc with --network host, then pstree -p inside', (t) => {
  const f = debianImage(t)
  if (!f) return
  const start = Date.now()
  const r = runDebian(f, ['--network', 'host'], 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq psmisc >/dev/null && echo == && pstree -p', 10 * 60 * 1000)
  assert.equal(r.status, 0, r.stderr)
  console.log(`# apt-get update and install psmisc inside: ${((Date.now() - start) / 1000).toFixed(1)} s`)
  const tree = r.stdout.split('==\n')[1]
  // PID 1 is the init, the shell its child, pstree the shell's.
  assert.match(tree, /^nsx-init\(1\)---sh\(\d+\)---pstree\(\d+\)$/m)
})
