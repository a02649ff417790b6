import {test} from 'node:test'
import assert from 'node:assert/strict'
import {CURRENT, parseSignal, parseUnshareArgs} from '../../src/unshare/options.js'
import {NsxError} from '../../src/cli/errors.js'

const ns = (argv: string[]) => Object.fromEntries(parseUnshareArgs(argv).namespaces)

test('short namespace options cluster as util-linux unshare\'s do (-mpf), and take no argument', () => {
  const o = parseUnshareArgs(['-mpfu', 'ps'])
  assert.deepEqual(Object.fromEntries(o.namespaces), {mnt: undefined, pid: undefined, uts: undefined})
  assert.equal(o.fork, true)
  assert.deepEqual(o.command, ['ps'])
  assert.deepEqual(ns(['-UCTinmpu']), {user: undefined, cgroup: undefined, time: undefined, ipc: undefined, net: undefined, mnt: undefined, pid: undefined, uts: undefined})
})

test('--TYPE=FILE asks for persistence; -n=FILE is accepted too, and a path after -R or -w is never rewritten', () => {
  assert.deepEqual(ns(['--net=/run/netns/x', '--mount=/m']), {net: '/run/netns/x', mnt: '/m'})
  assert.deepEqual(ns(['-n=/run/netns/x', '-U=/u']), {net: '/run/netns/x', user: '/u'})
  const o = parseUnshareArgs(['-R', '-n=odd', '-w', '-m=odd', 'true'])
  assert.equal(o.root, '-n=odd')
  assert.equal(o.wd, '-m=odd')
  assert.deepEqual(o.namespaces.size, 0)
  // A bare -n after --net=FILE keeps the file.
  assert.deepEqual(ns(['--net=/x', '-n']), {net: '/x'})
})

test('the command starts at the first word that is not an option, or after --', () => {
  assert.deepEqual(parseUnshareArgs(['-r', 'ls', '-l', '--net']).command, ['ls', '-l', '--net'])
  assert.deepEqual(parseUnshareArgs(['-r', '--', '-weird']).command, ['-weird'])
  assert.deepEqual(parseUnshareArgs(['-r']).command, [])
})

test('every mapping option implies a user namespace, as in util-linux', () => {
  for (const argv of [['-r'], ['-c'], ['--map-user=5'], ['--map-group=5'], ['--map-users=0:100000:10'], ['--map-groups=auto'], ['--map-auto'], ['--map-subids']]) {
    assert.ok(parseUnshareArgs(argv).namespaces.has('user'), argv.join(' '))
  }
  const r = parseUnshareArgs(['-r'])
  assert.equal(r.mapUser, '0')
  assert.equal(r.mapGroup, '0')
  assert.equal(parseUnshareArgs(['-c']).mapUser, CURRENT)
  // The last option wins for each id, as in util-linux: -c then --map-user=5 maps uid 5, our gid.
  const mixed = parseUnshareArgs(['-c', '--map-user=5'])
  assert.deepEqual([mixed.mapUser, mixed.mapGroup], ['5', CURRENT])
  assert.equal(parseUnshareArgs(['-c', '-r']).mapUser, '0')
  assert.deepEqual(parseUnshareArgs(['--map-auto']).mapUsers, [{kind: 'auto'}])
  assert.deepEqual(parseUnshareArgs(['--map-users', '1:2:3', '--map-users', '10,20,30']).mapUsers, [
    {kind: 'range', extent: {inside: 1, outside: 2, count: 3}},
    {kind: 'range', extent: {inside: 20, outside: 10, count: 30}},
  ])
})

test('--kill-child implies --fork, defaults to SIGKILL and takes names with or without SIG, any case, or numbers', () => {
  const o = parseUnshareArgs(['--kill-child'])
  assert.equal(o.fork, true)
  assert.equal(o.killChild, 9)
  assert.equal(parseUnshareArgs(['--kill-child=TERM']).killChild, 15)
  assert.equal(parseUnshareArgs(['--kill-child=sigusr1']).killChild, 10)
  assert.equal(parseSignal('RTMIN+2'), 36)
  assert.equal(parseSignal('7'), 7)
  assert.equal(parseSignal('0'), undefined)
  assert.equal(parseSignal('FOO'), undefined)
})

test('--mount-proc implies a mount namespace and defaults to /proc', () => {
  const o = parseUnshareArgs(['--mount-proc'])
  assert.equal(o.mountProc, '/proc')
  assert.ok(o.namespaces.has('mnt'))
  assert.equal(parseUnshareArgs(['--mount-proc=/mnt/p']).mountProc, '/mnt/p')
})

test('time offsets are signed 64-bit seconds and need -T', () => {
  const o = parseUnshareArgs(['-T', '--monotonic', '-5', '--boottime=86400'])
  assert.equal(o.monotonic, -5n)
  assert.equal(o.boottime, 86400n)
  assert.throws(() => parseUnshareArgs(['--boottime', '5']), /need a new time namespace \(-T\)/)
  assert.throws(() => parseUnshareArgs(['-T', '--boottime', '5s']), /'5s' is not a number of seconds/)
  assert.throws(() => parseUnshareArgs(['-T', '--boottime', '9223372036854775808']), /out of range/)
})

test('bad values are one NsxError with exit code 125 that lists the valid choices', () => {
  const cases: [string[], RegExp][] = [
    [['--kill-child=FOO'], /unknown signal 'FOO' for --kill-child; valid: .*\bKILL\b.*\bTERM\b/],
    [['--propagation', 'bogus'], /unsupported propagation mode 'bogus'; valid: private, shared, slave, unchanged/],
    [['--setgroups=maybe'], /unsupported --setgroups argument 'maybe'; valid: allow, deny/],
    [['-S', 'root'], /-S: 'root' is not an id/],
    [['--setgid=-1'], /--setgid: '-1' is not an id/],
    [['--map-users=0:100000'], /invalid mapping '0:100000'/],
    [['--bogus'], /unrecognized option '--bogus' \(see nsx unshare --help\)/],
    [['-x'], /invalid option -- 'x'/],
    [['--net='], /empty path/],
    [['--json'], /--json only goes with --dry-run/],
    [['--map'], /ambiguous/],
    // unshare refuses these whoever runs it: the single gid map it writes needs setgroups denied.
    [['-r', '--setgroups=allow'], /^options --setgroups=allow and --map-group are mutually exclusive$/],
    [['--setgroups', 'allow', '--map-group=0'], /^options --setgroups=allow and --map-group are mutually exclusive$/],
  ]
  for (const [argv, why] of cases) {
    assert.throws(() => parseUnshareArgs(argv), (e: Error) => e instanceof NsxError && e.exitCode === 125 && why.test(e.message), argv.join(' '))
  }
})

test('--setgroups=allow goes with a --map-groups range (newgidmap writes it) and with no gid map', () => {
  assert.equal(parseUnshareArgs(['--setgroups=allow', '--map-groups=0:100000:10']).setgroups, 'allow')
  assert.equal(parseUnshareArgs(['-U', '--setgroups=allow']).setgroups, 'allow')
})

test('--forward-signals implies --fork; --clear-env keeps nothing, --whitelist-env the names listed', () => {
  const f = parseUnshareArgs(['--forward-signals'])
  assert.deepEqual([f.fork, f.forwardSignals], [true, true])
  assert.deepEqual(parseUnshareArgs(['--clear-env']).keepEnv, [])
  assert.deepEqual(parseUnshareArgs(['--whitelist-env', 'PATH,TERM', '--whitelist-env=HOME']).keepEnv, ['PATH', 'TERM', 'HOME'])
  assert.throws(() => parseUnshareArgs(['--whitelist-env=A=B']), /--whitelist-env: 'A=B' is not a list of variable names/)
})
