import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {readlinkSync, statSync} from 'node:fs'
import {assertOneLineError, needCommand, needRoot, nsx, NSX_BIN, run, runLsns} from '../helpers/env.js'
import {descendantsOf, TestProcesses, waitFor} from '../helpers/processes.js'

/**
 * The scenarios of util-linux's own tests for lsns (tests/ts/lsns: filter, filedesc,
 * netns-from-sock, ioctl_ns, netnsid, netnsid-for-persistent-namespaces, nsfs), nsenter
 * (enter-via-socket) and unshare (the --setgroups check), rebuilt here with nsx in place of the
 * tool, compared with the installed lsns/nsenter/unshare where they can do the same (2.38 here:
 * no -Q, no sockets). Everything that needs /run/netns happens in a mount and network namespace of
 * the scenario's own (a tmpfs on /run there), so the host's netns list, mounts and links are untouched.
 */

const procs = new TestProcesses()
after(() => procs.killAll())

// Word-split by the scenario's shell: paths without blanks.
const NSX = `${process.execPath} ${NSX_BIN}`
const guard = (t: import('node:test').TestContext) => needRoot(t) && needCommand(t, 'lsns', 'util-linux') && needCommand(t, 'ip', 'iproute2')

/**
 * Run a shell script in a mount and network namespace of its own, with a private tmpfs on /run
 * (ip netns keeps its mounts there), $NSX set; every process it starts dies with it (its own
 * pid namespace). Returns its key=value lines.
 */
function scenario(script: string): Record<string, string> {
  const setup = `set -e; mount -t tmpfs nsx-test /run; mkdir /run/netns
wait_net() { while [ "$(readlink /proc/$1/ns/net)" != "net:[$(stat -L -c %i "$2")]" ]; do sleep 0.02; done; }
`
  const r = run('unshare', ['--mount', '--propagation', 'private', '--net', '--pid', '--fork', '--mount-proc', '--kill-child', 'sh', '-c', setup + script], {
    env: {...process.env, NSX, NO_COLOR: '1'},
    timeout: 120000,
  })
  assert.equal(r.status, 0, `scenario failed: ${r.stderr}\n${r.stdout}`)
  const out: Record<string, string> = {_stderr: r.stderr}
  for (const line of r.stdout.split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return out
}

/** A process that made a socket in a new net namespace and went back: only the socket holds that namespace. */
const FOREIGN_SOCKET = `import ctypes, os, socket, time
libc = ctypes.CDLL(None, use_errno=True)
home = os.open('/proc/self/ns/net', os.O_RDONLY)
assert libc.unshare(0x40000000) == 0, ctypes.get_errno()
ino = os.stat('/proc/self/ns/net').st_ino
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
assert libc.setns(home, 0x40000000) == 0, ctypes.get_errno()
os.close(home)
print(ino, s.fileno(), flush=True)
time.sleep(100000)`

test('lsns/filter: -Q and --filter "NS == INODE && NPROCS == 1" give the pid of the one process in a user namespace, the one lsns lists', async (t) => {
  if (!guard(t)) return
  const {child} = await procs.spawnUntilLine('unshare', ['--user', 'sh', '-c', 'echo up; exec sleep 100000'])
  await waitFor(() => readlinkSync(`/proc/${child.pid}/exe`).endsWith('/sleep'), 10000, 'sleep')
  const inode = statSync(`/proc/${child.pid}/ns/user`).ino
  for (const opt of ['-Q', '--filter']) {
    const r = nsx(['ls', '-n', '--raw', '-o', 'PID', opt, `NS == ${inode} && NPROCS == 1`])
    assert.deepEqual([r.status, r.stdout, r.stderr], [0, `${child.pid}\n`, ''], opt)
  }
  // lsns 2.38 has no -Q: the same row picked out of its raw list.
  const lsns = runLsns(['-n', '-r', '-o', 'NS,NPROCS,PID'])
  const row = lsns.stdout.split('\n').find((l) => l.startsWith(`${inode} `))
  assert.equal(row, `${inode} 1 ${child.pid}`, `lsns: ${lsns.status} ${lsns.stderr} ${lsns.stdout}`)
  // What the filter language adds: || ! () =~ and columns not shown.
  const r = nsx(['ls', '-n', '-r', '-o', 'NS', '-Q', `(NS == ${inode} || NS == 1) && !(NPROCS > 1) && TYPE =~ "^us" && COMMAND =~ "sleep"`])
  assert.equal(r.stdout, `${inode}\n`)
  assertOneLineError(nsx(['ls', '-Q', 'NPROCS >']), 1, /^nsx ls: invalid filter 'NPROCS >': expected a value or a column at the end$/)
  assertOneLineError(nsx(['ls', '-Q', 'BOGUS == 1']), 1, /unknown column 'BOGUS'/)
})

test('lsns/filedesc: a net namespace held only by an fd whose /run/netns file is gone (its link reads "/") is found by device and inode: "net 0 root"', (t) => {
  if (!guard(t)) return
  const f = scenario(`ip netns add nsx-fd
sleep 100000 3</run/netns/nsx-fd &
pid=$!
ino=$(stat -L -c %i /run/netns/nsx-fd)
ip netns delete nsx-fd
echo "pid=$pid"
echo "link=$(readlink /proc/$pid/fd/3)"
echo "ls=$($NSX ls --noheadings --raw --output TYPE,NPROCS,USER -Q "NS == $ino")"
echo "holders=$($NSX ls -n -r -o HOLDERS,PATH -Q "NS == $ino")"
kill $pid`)
  assert.equal(f.link, '/', 'the fd\'s link text no longer names a namespace')
  assert.equal(f.ls, 'net 0 root')
  assert.equal(f.holders, `fd\\x203\\x20of\\x20${f.pid} /proc/${f.pid}/fd/3`)
})

test('lsns/netns-from-sock: a net namespace held only by a socket: NS, TYPE net, NPROCS 0, no PID or COMMAND, USER root; nsenter/enter -N joins it', async (t) => {
  if (!guard(t) || !needCommand(t, 'python3', 'python3')) return
  const {child, line} = await procs.spawnUntilLine('python3', ['-c', FOREIGN_SOCKET])
  const [ino, fd] = line.trim().split(' ')
  const expected: Record<string, string> = {NS: ino, TYPE: 'net', NPROCS: '0', PID: '', USER: 'root', COMMAND: ''}
  for (const [column, value] of Object.entries(expected)) {
    const r = nsx(['ls', '--noheadings', '--raw', '--output', column, '--filter', `NS == ${ino}`])
    assert.deepEqual([r.status, r.stdout, r.stderr], [0, `${value}\n`, ''], column)
  }
  assert.equal(nsx(['ls', '-n', '-r', '-o', 'HOLDERS', '-Q', `NS == ${ino}`]).stdout, `socket\\x20fd\\x20${fd}\\x20of\\x20${child.pid}\n`)
  const json = JSON.parse(nsx(['ls', '--json', '-t', 'net']).stdout) as {namespaces: {ns: number; holders: object[]; ons: number}[]}
  const row = json.namespaces.find((n) => n.ns === Number(ino))
  assert.deepEqual(row?.holders, [{kind: 'socket', pid: child.pid, fd: Number(fd)}])
  // -p lists the namespaces a process is in (or holds by a thread or an nsfs fd), not its sockets' (as lsns -p).
  assert.ok(!nsx(['ls', '-n', '-r', '-o', 'NS', '-p', String(child.pid)]).stdout.split('\n').includes(ino))
  assert.equal(row?.ons, statSync('/proc/self/ns/user').ino)
  // nsenter/enter-via-socket: -N enters the socket's namespace, not the process's.
  const r = nsx(['enter', '--target', String(child.pid), '--net-socket', fd, 'readlink', '/proc/self/ns/net'])
  assert.deepEqual([r.status, r.stdout], [0, `net:[${ino}]\n`], r.stderr)
  assert.notEqual(readlinkSync(`/proc/${child.pid}/ns/net`), `net:[${ino}]`)
})

test('lsns/ioctl_ns: NS, PNS, ONS of a child user and pid namespace (unshare --user --pid --mount-proc --fork) as lsns prints them', async (t) => {
  if (!guard(t)) return
  const {child} = await procs.spawnUntilLine('unshare', ['--user', '--pid', '--mount-proc', '--fork', '--kill-child', 'sh', '-c', 'echo up; exec sleep 100000'])
  let inner = 0
  await waitFor(() => {
    inner = descendantsOf(child.pid!).find((p) => {
      try {
        return readlinkSync(`/proc/${p}/exe`).endsWith('/sleep')
      } catch {
        return false
      }
    }) ?? 0
    return inner > 0
  }, 10000, 'the sleep inside')
  const myUser = statSync('/proc/self/ns/user').ino
  const myPid = statSync('/proc/self/ns/pid').ino
  const childUser = statSync(`/proc/${inner}/ns/user`).ino
  const childPid = statSync(`/proc/${inner}/ns/pid`).ino
  const words = (s: string) => [...new Set(s.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' ')))]
  const cases: [string[], string][] = [
    [['--type', 'user', '--noheadings', '--output', 'NS,PNS,ONS', String(childUser)], `${childUser} ${myUser} ${myUser}`],
    [['-t', 'pid', '-n', '-o', 'NS,PNS,ONS', String(childPid)], `${childPid} ${myPid} ${childUser}`],
  ]
  for (const [args, expected] of cases) {
    assert.deepEqual(words(nsx(['ls', ...args]).stdout), [expected], args.join(' '))
    assert.deepEqual(words(runLsns(args).stdout), [expected], `lsns ${args.join(' ')}`)
  }
})

test('PNS and ONS are 0 for the root namespaces, as lsns prints them', (t) => {
  if (!guard(t)) return
  const user = statSync('/proc/self/ns/user').ino
  const pid = statSync('/proc/self/ns/pid').ino
  for (const [type, ino] of [['user', user], ['pid', pid]] as const) {
    const pick = (out: string) => out.split('\n').find((l) => l.startsWith(`${ino} `))
    const args = ['-l', '-n', '-r', '-o', 'NS,PNS,ONS', '-t', type]
    assert.equal(pick(nsx(['ls', ...args]).stdout), pick(runLsns(args).stdout), type)
  }
  assert.equal(nsx(['ls', '-n', '-r', '-o', 'PNS,ONS', String(user)]).stdout, '0 0\n')
})

test('lsns/netnsid: NETNSID of the namespace a veth peer went to is the link-netnsid ip shows, as lsns says', (t) => {
  if (!guard(t)) return
  const f = scenario(`ip netns add nsx-id
ip link add name nsx-va type veth peer name nsx-vb
ip link set nsx-vb netns nsx-id
ip netns exec nsx-id sleep 100000 &
pid=$!
wait_net $pid /run/netns/nsx-id
id=$(ip -o link show dev nsx-va | sed -ne 's/.* link-netnsid *\\([0-9]*\\).*/\\1/p')
# ip names the namespace instead when it can (link-netns NAME): its id then from list-id.
[ -n "$id" ] || id=$(ip netns list-id | awk '/name: nsx-id/ { print $2 }')
echo "ip=$id"
echo "nsx=$($NSX ls -n -o NETNSID --type net --task $pid)"
echo "lsns=$(lsns -n -o NETNSID --type net --task $pid | tr -d ' ')"
echo "header=$($NSX ls -t net | head -1 | tr -s ' ')"
echo "lsnsheader=$(lsns -t net | head -1 | tr -s ' ')"
kill $pid`)
  assert.match(f.ip, /^\d+$/)
  assert.equal(f.nsx.trim(), f.ip, f._stderr)
  assert.equal(f.lsns, f.ip)
  // -t net adds NETNSID and NSFS to the defaults, as in lsns (nsx adds HOLDERS before COMMAND).
  assert.equal(f.header.trim().replace(' HOLDERS', ''), f.lsnsheader.trim())
})

test('lsns/netnsid-for-persistent-namespaces and lsns/nsfs: a namespace only mounts hold, by NETNSID; NSFS one path per line, comma-joined with --nowrap', (t) => {
  if (!guard(t)) return
  const f = scenario(`ip netns add nsx-abc
ip netns set nsx-abc 7
for c in NETNSID TYPE NSFS; do echo "$c=$($NSX ls --raw --noheadings --filter "NETNSID == '7'" --output $c)"; done
touch /run/nsx-xyz
mount --bind /run/netns/nsx-abc /run/nsx-xyz
ip netns exec nsx-abc sleep 100000 &
pid=$!
wait_net $pid /run/netns/nsx-abc
echo "lines=$($NSX ls -n -o NSFS --type net --task $pid | tr '\\n' '|')"
echo "nowrap=$($NSX ls -n -o NSFS --nowrap --type net --task $pid)"
echo "lsns=$(lsns -n -o NSFS --type net --task $pid | tr -d ' ' | tr '\\n' '|')"
echo "persistent=$($NSX ls -n -r -P -o NS,NPROCS -t net | tr '\\n' '|')"
kill $pid; umount /run/nsx-xyz`)
  assert.equal(f.NETNSID, '7')
  assert.equal(f.TYPE, 'net')
  assert.equal(f.NSFS, '/run/netns/nsx-abc')
  assert.deepEqual(f.lines.split('|').filter(Boolean).sort(), ['/run/netns/nsx-abc', '/run/nsx-xyz'], f._stderr)
  assert.deepEqual(f.nowrap.trim().split(',').sort(), ['/run/netns/nsx-abc', '/run/nsx-xyz'])
  assert.deepEqual(f.lsns.split('|').filter(Boolean).sort(), ['/run/netns/nsx-abc', '/run/nsx-xyz'])
  // -P: a process is in it now, and the scenario's own namespace has the shell: neither is listed.
  for (const line of f.persistent.split('|').filter(Boolean)) assert.match(line, / 0$/)
})

test('--json follows -o as lsns -J does (the columns, lower-case keys) and nests children under the tree', (t) => {
  if (!guard(t)) return
  interface Row {ns: number; type: string; pns: number; ons: number; children?: Row[]}
  const doc = JSON.parse(nsx(['ls', '-J', '-o', 'NS,TYPE,PNS,ONS', '--tree=owner']).stdout) as {namespaces: Row[]}
  let nested = 0
  const walk = (rows: Row[], parent?: Row) => {
    for (const r of rows) {
      assert.deepEqual(Object.keys(r).filter((k) => k !== 'children'), ['ns', 'type', 'pns', 'ons'])
      if (parent) {
        assert.equal(r.ons, parent.ns, `${r.ns} sits under its owner`)
        nested++
      }
      if (r.children) walk(r.children, r)
    }
  }
  walk(doc.namespaces)
  assert.ok(nested > 0)
  // The same rows as lsns -J -l for the namespaces processes hold (lsns lists no others); a
  // namespace made or gone between the two runs (other work on this machine) is retried once.
  const flat = (args: string[]) => (JSON.parse(args[0] === 'lsns' ? runLsns(args.slice(1)).stdout : nsx(args).stdout) as {namespaces: Row[]}).namespaces
  for (let attempt = 0; ; attempt++) {
    const theirs = flat(['lsns', '-J', '-l', '-o', 'NS,TYPE,PNS,ONS'])
    const ours = new Map(flat(['ls', '-J', '-l', '-o', 'NS,TYPE,PNS,ONS']).map((r) => [r.ns, r]))
    const missing = theirs.filter((r) => JSON.stringify(ours.get(r.ns)) !== JSON.stringify(r))
    if (missing.length === 0) break
    if (attempt > 0) assert.deepEqual(missing.map((r) => ours.get(r.ns)), missing)
  }
})

test('as root, a process even root may not read does not make ls or pstree print anything on stderr; --verbose says it', (t) => {
  if (!guard(t)) return
  for (const args of [['ls'], ['ls', '--json'], ['ls', '-t', 'net'], ['pstree']]) {
    const r = nsx(args)
    assert.deepEqual([r.status, r.stderr], [0, ''], `nsx ${args.join(' ')}`)
  }
  for (const args of [['ls', '--verbose'], ['pstree', '--verbose']]) {
    const r = nsx(args)
    assert.equal(r.status, 0)
    assert.match(r.stderr, /^(|nsx (ls|pstree): permission denied reading [^\n]+\n)$/)
  }
})

test('unshare -r --setgroups=allow is refused as unshare refuses it, before anything is made', (t) => {
  if (!needRoot(t) || !needCommand(t, 'unshare', 'util-linux')) return
  for (const args of [['-r', '--setgroups=allow'], ['--map-group=0', '--setgroups', 'allow']]) {
    const theirs = run('unshare', [...args, 'true'])
    assert.equal(theirs.status, 1)
    assert.equal(theirs.stderr, 'unshare: options --setgroups=allow and --map-group are mutually exclusive\n')
    assertOneLineError(nsx(['unshare', ...args, 'true']), 125, /^nsx unshare: options --setgroups=allow and --map-group are mutually exclusive$/)
  }
})
