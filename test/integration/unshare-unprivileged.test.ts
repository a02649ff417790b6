import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {assertOneLineError, needCommand, needRoot, NSX_BIN, run, RunResult} from '../helpers/env.js'

/**
 * `nsx unshare` as an ordinary user, side by side with util-linux unshare: a throwaway user
 * made with useradd (which also gives it an /etc/subuid and /etc/subgid range) and removed
 * with userdel after the tests, even when they fail.
 */

const NAME = `nsxu${process.pid % 100000}`
let ready = false
let sub = {start: 0, count: 0}

before(() => {
  if (process.getuid?.() !== 0) return
  const r = run('useradd', ['-M', '-s', '/usr/sbin/nologin', NAME])
  if (r.status !== 0) throw new Error(`useradd ${NAME}: ${r.stderr}`)
  ready = true
  const lineOf = (file: string) => {
    try {
      return readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${NAME}:`))
    } catch {
      return undefined
    }
  }
  if (!lineOf('/etc/subuid') || !lineOf('/etc/subgid')) {
    // useradd gives subordinate ids only when /etc/subuid exists: add a range above every other one.
    const ends = ['/etc/subuid', '/etc/subgid'].flatMap((f) => {
      try {
        return readFileSync(f, 'utf8').split('\n').map((l) => l.split(':')).filter((p) => p.length === 3).map((p) => Number(p[1]) + Number(p[2]))
      } catch {
        return []
      }
    })
    const start = Math.max(100000, ...ends)
    const range = `${start}-${start + 65535}`
    const r2 = run('usermod', ['--add-subuids', range, '--add-subgids', range, NAME])
    if (r2.status !== 0) throw new Error(`usermod --add-subuids ${range} ${NAME}: ${r2.stderr}`)
  }
  const [, start, count] = (lineOf('/etc/subuid') ?? '').split(':')
  sub = {start: Number(start), count: Number(count)}
})

after(() => {
  // -f: userdel refuses while any process runs under the user's subordinate ids (other tests' too).
  if (ready) run('userdel', ['-f', NAME])
})

const guard = (t: import('node:test').TestContext) =>
  needRoot(t) && needCommand(t, 'useradd', 'passwd') && needCommand(t, 'setpriv', 'util-linux') && needCommand(t, 'newuidmap', 'uidmap') && ready

function as(argv: string[]): RunResult {
  return run('setpriv', [`--reuid=${NAME}`, `--regid=${NAME}`, '--clear-groups', '--', ...argv], {cwd: '/', env: {...process.env, NO_COLOR: '1'}})
}
const nsxAs = (args: string[]) => as([process.execPath, NSX_BIN, 'unshare', ...args])
const ulAs = (args: string[]) => as(['unshare', ...args])

function parity(args: string[], script: string, ulArgs = args): RunResult {
  const n = nsxAs([...args, 'sh', '-c', script])
  const u = ulAs([...ulArgs, 'sh', '-c', script])
  assert.deepEqual({status: n.status, stdout: n.stdout, stderr: n.stderr}, {status: u.status, stdout: u.stdout, stderr: u.stderr.replace(/^unshare: /gm, 'nsx unshare: ')}, `nsx unshare ${args.join(' ')}`)
  return n
}

const MAPS = `awk '{ printf "%s %s %s;", $1, $2, $3 }' /proc/self/uid_map; echo; awk '{ printf "%s %s %s;", $1, $2, $3 }' /proc/self/gid_map; echo; cat /proc/self/setgroups; id -u; id -g`

test('nsx unshare -r id -u prints 0 for an ordinary user, as util-linux unshare does', (t) => {
  if (!guard(t)) return
  const r = nsxAs(['-r', 'id', '-u'])
  assert.deepEqual([r.status, r.stdout, r.stderr], [0, '0\n', ''])
  parity(['-r'], MAPS)
})

test('an ordinary user gets every namespace type at once (the user namespace is made first and owns them)', (t) => {
  if (!guard(t)) return
  const script = 'hostname inside; echo "$(hostname) $$"; set -- /proc/[0-9]*; echo $#; ip -o link | wc -l'
  const r = parity(['-r', '-m', '-u', '-i', '-n', '-p', '-C', '-T', '-f', '--mount-proc'], script)
  assert.equal(r.stdout.split('\n')[0], 'inside 1')
  assert.notEqual(run('hostname', []).stdout.trim(), 'inside')
})

test('--map-auto --map-root-user: we are root, the subids from 1, written by newuidmap and newgidmap as util-linux does', (t) => {
  if (!guard(t)) return
  const r = parity(['--map-auto', '--map-root-user'], MAPS)
  const uid = Number(run('id', ['-u', NAME]).stdout)
  assert.equal(r.stdout.split('\n')[0], `0 ${uid} 1;1 ${sub.start} ${sub.count - 1};`)
})

test('--map-users INNER:OUTER:COUNT maps the same ranges as util-linux 2.38\'s OUTER,INNER,COUNT', (t) => {
  if (!guard(t)) return
  const u = `--map-users=${sub.start},1000,500`
  const g = `--map-groups=${sub.start},1000,500`
  const r = parity([`--map-users=1000:${sub.start}:500`, `--map-groups=1000:${sub.start}:500`, '-c'], MAPS, [u, g, '-c'])
  t.diagnostic(r.stdout.replace(/\n/g, ' | '))
  const s = nsxAs(['--map-subids', 'sh', '-c', MAPS])
  assert.equal(s.stdout.split('\n')[0], `${sub.start} ${sub.start} ${sub.count};`)
})

test('ranges outside the user\'s /etc/subuid are one line before anything runs (util-linux leaves it to newuidmap)', (t) => {
  if (!guard(t)) return
  const bad = `0:${sub.start + sub.count}:10`
  const r = nsxAs([`--map-users=${bad}`, 'true'])
  assertOneLineError(r, 125, new RegExp(`--map-users: outer uids ${sub.start + sub.count}-${sub.start + sub.count + 9} are not ${NAME}'s to map \\(/etc/subuid gives ${NAME}: ${sub.start}-${sub.start + sub.count - 1}\\)`))
  const u = ulAs([`--map-users=${sub.start + sub.count},0,10`, 'true'])
  assert.notEqual(u.status, 0)
  assertOneLineError(nsxAs(['--map-users=0:1:1', '--map-users=0:2:1', 'true']), 125, /overlap on the inside side/)
  // util-linux refuses this pair before anything runs, for root and ordinary users alike.
  assertOneLineError(nsxAs(['-r', '--setgroups=allow', 'true']), 125, /--setgroups=allow and --map-group are mutually exclusive/)
  assert.notEqual(ulAs(['-r', '--setgroups=allow', 'true']).status, 0)
})

test('an ordinary user sets time offsets and keeps capabilities in namespaces it owns', (t) => {
  if (!guard(t)) return
  parity(['-r', '-T', '--monotonic=50', '--boottime=100'], 'tr -s " " < /proc/self/timens_offsets')
  const k = parity(['-r', '--keep-caps'], 'grep CapAmb /proc/self/status')
  assert.doesNotMatch(k.stdout, /0000000000000000/)
})
