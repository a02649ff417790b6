import {test} from 'node:test'
import assert from 'node:assert/strict'
import {parseEnterArgs} from '../../src/enter/options.js'
import {NsxError} from '../../src/cli/errors.js'

test('namespace options: bare means the target\'s, =FILE or an attached FILE names a file, as nsenter 2.42 reads them', () => {
  const o = parseEnterArgs(['-m', '-u/u', '-i=/i', '--net=/n', '--pid', '-C', '-U=/user', '-T', 'cmd'])
  assert.deepEqual(Object.fromEntries(o.namespaces), {mnt: undefined, uts: '/u', ipc: '/i', net: '/n', pid: undefined, cgroup: undefined, user: '/user', time: undefined})
  assert.deepEqual(o.command, ['cmd'])
})

test('root and working directory: bare means the target\'s, a value names a directory; -W always takes one', () => {
  assert.deepEqual(parseEnterArgs(['-r', '-w']).root, {path: undefined})
  assert.deepEqual(parseEnterArgs(['-r=/srv', '--wd=/tmp']).root, {path: '/srv'})
  assert.deepEqual(parseEnterArgs(['-r=/srv', '--wd=/tmp']).wd, {path: '/tmp'})
  assert.equal(parseEnterArgs(['-W/etc']).wdns, '/etc')
  // -W's directory is optional (nsenter): alone, it is the target's working directory, and the next word is the command.
  const alone = parseEnterArgs(['-W', '/bin/pwd'])
  assert.equal(alone.wdns, undefined)
  assert.deepEqual(alone.wd, {path: undefined})
  assert.deepEqual(alone.command, ['/bin/pwd'])
  assert.deepEqual(parseEnterArgs(['--wdns', 'pwd']).wd, {path: undefined})
  assert.equal(parseEnterArgs(['--wdns=/etc']).wdns, '/etc')
})

test('ids, flags and nsx\'s own options', () => {
  const o = parseEnterArgs(['-S', '0', '-G', 'follow', '--preserve-credentials', '--keep-caps', '-e', '-F', '-c', '--user-parent', '--mount-proc', '--dry-run', '--json', '-N', '4', '-a', '-t', '7'])
  assert.equal(o.setuid, 0)
  assert.equal(o.setgid, 'follow')
  for (const k of ['preserveCredentials', 'keepCaps', 'env', 'noFork', 'joinCgroup', 'userParent', 'mountProc', 'dryRun', 'json', 'all'] as const) assert.equal(o[k], true, k)
  assert.equal(o.netSocket, 4)
  assert.equal(o.target, '7')
  assert.equal(parseEnterArgs(['-h']).help, true)
  assert.equal(parseEnterArgs(['--version']).version, true)
})

test('bad values: one message each, exit code 125', () => {
  const bad: [string[], RegExp][] = [
    [['-S', '-1'], /failed to parse uid: '-1'/],
    [['-G', '4294967295'], /failed to parse gid/],
    [['-N', 'x'], /failed to parse file descriptor: 'x'/],
    [['-m='], /option -m: empty path/],
    [['--json'], /--json only goes with --dry-run/],
    [['-w', '-W', '/x'], /mutually exclusive/],
    [['-t', '1', '--target=2'], /only once/],
    [['--all=1'], /doesn't allow an argument \(see nsx enter --help\)/],
  ]
  for (const [argv, re] of bad) {
    assert.throws(() => parseEnterArgs(argv), (e: unknown) => e instanceof NsxError && e.exitCode === 125 && re.test(e.message), argv.join(' '))
  }
})
