import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {assertOneLineError, needCommand, needRoot, nsx, NSX_BIN, run} from '../helpers/env.js'
import {childrenOf} from '../helpers/processes.js'

/**
 * Bad input to `nsx unshare`: one clear line, exit 125 (127 for a missing command), and
 * nothing left behind: no file created, no mount, no process.
 */

const mounts = () => readFileSync('/proc/self/mountinfo', 'utf8')

test('malformed, overlapping or foreign maps, unknown signals and bad values: one line each, nothing created', (t) => {
  if (!needRoot(t) || !needCommand(t, 'unshare', 'util-linux')) return
  const dir = mkdtempSync(join(tmpdir(), 'nsx-unshare-err-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const keep = join(dir, 'kept')
  const before = mounts()
  const cases: [string[], RegExp, number?][] = [
    [['--map-users', '0:100000'], /^nsx unshare: invalid mapping '0:100000': expected INNER:OUTER:COUNT \(or OUTER,INNER,COUNT\), auto, subids or all$/],
    [['--map-users=0:100000:10', '--map-users=5:200000:10'], /--map-users: ranges starting at 0 and 5 overlap on the inside side/],
    [['--map-groups=0:100000:10', '--map-groups=20:100005:10'], /--map-groups: .* overlap on the outside side/],
    [['--map-user=no-such-user-nsx'], /--map-user: no user named 'no-such-user-nsx' in \/etc\/passwd/],
    [['--kill-child=FOO'], /unknown signal 'FOO' for --kill-child; valid: a number 1-64 or one of HUP INT .*KILL/],
    [['--propagation=bogus', '-m'], /unsupported propagation mode 'bogus'; valid: private, shared, slave, unchanged/],
    [['--setgroups=maybe', '-U'], /valid: allow, deny/],
    [['--bogus'], /unrecognized option '--bogus'/],
    [['--boottime=5'], /need a new time namespace \(-T\)/],
    [['-p', '--mount-proc'], /--mount-proc with --pid needs --fork/],
    [['--pid=' + keep], /--pid=FILE needs --fork/],
    [['--net=' + join(dir, 'missing', 'f')], /cannot keep the net namespace at .*: directory .*missing does not exist/],
    [['-R', join(dir, 'nope')], /cannot change root directory to '.*nope': No such file or directory/],
    [['--keep-caps', '-n'], /--keep-caps needs a new user namespace/],
  ]
  for (const [args, pattern] of cases) {
    // Inside a mount namespace of our own, so that even a wrongly accepted case leaves no mount
    // on the host; --uts=KEEP shows whether anything was created.
    const r = run('unshare', ['-m', '--propagation', 'private', process.execPath, NSX_BIN, 'unshare', ...args, `--uts=${keep}`, 'true'], {env: {...process.env, NO_COLOR: '1'}})
    assertOneLineError(r, 125, pattern)
    assert.equal(existsSync(keep), false, `${args.join(' ')} created ${keep}`)
  }
  assert.equal(mounts(), before, 'no mount was made')
  assert.deepEqual(childrenOf(process.pid).filter((p) => !/node/.test(readFileSync(`/proc/${p}/comm`, 'utf8'))), [])
})

test('a command that does not exist: 127 and one line, before any namespace or bind mount is made', (t) => {
  if (!needRoot(t) || !needCommand(t, 'unshare', 'util-linux')) return
  const dir = mkdtempSync(join(tmpdir(), 'nsx-unshare-err-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const r = run('unshare', ['-m', '--propagation', 'private', process.execPath, NSX_BIN, 'unshare', '--net=' + join(dir, 'n'), '-f', 'no-such-command-nsx'])
  assertOneLineError(r, 127, /^nsx unshare: failed to execute no-such-command-nsx: No such file or directory$/)
  assert.deepEqual(readdirSync(dir), [])
  // util-linux fails the same way, after having made the namespaces.
  assert.equal(run('unshare', ['-f', 'no-such-command-nsx']).status, 127)
})

test('a persistence FILE that is not empty, a directory, or already holds a namespace is refused', (t) => {
  if (!needRoot(t) || !needCommand(t, 'unshare', 'util-linux')) return
  const dir = mkdtempSync(join(tmpdir(), 'nsx-unshare-err-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  writeFileSync(join(dir, 'data'), 'precious\n')
  mkdirSync(join(dir, 'sub'))
  assertOneLineError(nsx(['unshare', `--uts=${join(dir, 'data')}`, 'true']), 125, /the file is not empty \(a bind mount would hide its contents\)/)
  assertOneLineError(nsx(['unshare', `-n=${join(dir, 'sub')}`, 'true']), 125, /not a regular file/)
  assert.equal(readFileSync(join(dir, 'data'), 'utf8'), 'precious\n')
  // Already a namespace: made and checked inside a mount namespace of our own.
  const r = run('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'NSX="$1"; F="$2"; $NSX unshare --uts="$F" true && $NSX unshare --net="$F" true', 'sh', `${process.execPath} ${NSX_BIN}`, join(dir, 'ns')], {env: {...process.env, NO_COLOR: '1'}})
  assertOneLineError(r, 125, /cannot keep the net namespace at .*\/ns: it already holds a namespace \(umount .* first\)/)
})

test('an ordinary user asking for namespaces without a user namespace is told what is missing', (t) => {
  if (!needRoot(t) || !needCommand(t, 'setpriv', 'util-linux')) return
  const r = run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, NSX_BIN, 'unshare', '-n', 'true'], {cwd: '/', env: {...process.env, NO_COLOR: '1'}})
  assertOneLineError(r, 125, /^nsx unshare: unsharing net needs CAP_SYS_ADMIN: run as root, or add a user namespace first \(-r/)
  const p = run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, NSX_BIN, 'unshare', '-r', `--net=${tmpdir()}/nsx-never`, 'true'], {cwd: '/'})
  assertOneLineError(p, 125, /keeping a namespace \(--TYPE=FILE\) needs CAP_SYS_ADMIN/)
  assert.equal(existsSync(`${tmpdir()}/nsx-never`), false)
})

test('--dry-run --json prints the plan (every step with the executor\'s exact argv) and does nothing', (t) => {
  if (!needRoot(t)) return
  const dir = mkdtempSync(join(tmpdir(), 'nsx-unshare-err-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const keep = join(dir, 'net')
  const r = nsx(['unshare', '--dry-run', '--json', `--net=${keep}`, '-rpf', '--mount-proc', 'id'])
  assert.equal(r.status, 0, r.stderr)
  const plan = JSON.parse(r.stdout) as {command: string; executor: string; steps: {step: number; op: string; args: string[]; action: string; needs: string}[]}
  assert.equal(plan.command, 'nsx unshare')
  assert.deepEqual(plan.steps.map((s) => s.op), [
    'helper-start', 'unshare', 'setgroups-write', 'map-write', 'map-write', 'persist', 'fork-wait', 'propagation', 'mount-proc', 'exec',
  ])
  assert.deepEqual(plan.steps[5].args, ['net', keep])
  assert.deepEqual(plan.steps.map((s) => s.step), plan.steps.map((_, i) => i + 1))
  assert.equal(existsSync(keep), false, 'a dry run creates nothing')
})

test('-V prints the version on the fast path, as enter does; --help goes to oclif; both exit 0', () => {
  const v = nsx(['unshare', '-V'])
  assert.equal(v.status, 0, v.stderr)
  assert.match(v.stdout, /^nsx unshare \d+\.\d+\.\d+\n$/)
  const h = nsx(['unshare', '--help'])
  assert.equal(h.status, 0, h.stderr)
  assert.match(h.stdout, /USAGE\n\s+\$ nsx unshare/)
})
