import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {needCommand, needRoot, NSX_BIN, run, RunResult} from '../helpers/env.js'

/**
 * Persistent namespaces (--TYPE=FILE) and --kill-child, side by side with util-linux
 * unshare. Every scenario runs inside a mount namespace of its own (util-linux unshare -m),
 * so the bind mounts nsx makes in "the original mount namespace" vanish with it.
 */

function tempDir(t: import('node:test').TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'nsx-unshare-persist-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  return dir
}

/** Run a shell script in a private mount namespace of its own; $NSX runs bin/nsx, $D is dir. */
function inOwnMountNs(dir: string, script: string): RunResult {
  // One CPU: this kernel (6.18) orders mount namespaces by ids taken from per-CPU batches, so a
  // namespace made on another CPU can look older than ours and its bind mount be refused as a
  // loop (EINVAL) -- for util-linux unshare and mount --bind alike.
  return run('taskset', ['-c', '0', 'unshare', '-m', '--propagation', 'private', 'sh', '-euc', script], {
    env: {...process.env, NO_COLOR: '1', NSX: `${process.execPath} ${NSX_BIN}`, D: dir},
    cwd: '/',
  })
}

const guard = (t: import('node:test').TestContext) =>
  needRoot(t) && needCommand(t, 'unshare', 'util-linux') && needCommand(t, 'nsenter', 'util-linux') && needCommand(t, 'taskset', 'util-linux')

test('--TYPE=FILE keeps each namespace type on FILE, the one the command was in, as util-linux unshare does', (t) => {
  if (!guard(t)) return
  const dir = tempDir(t)
  // For each type: the command prints its namespace's inode; the file must hold that one.
  const r = inOwnMountNs(dir, `
    for tool in ul nsx; do
      for t in net uts ipc mnt user cgroup time pid; do
        opt=$t; [ $t = mnt ] && opt=mount
        f=$D/$tool-$t; touch $f   # util-linux needs the file; nsx takes it empty as well
        fork=; [ $t = pid ] && fork=-f
        # util-linux 2.38 binds a user namespace from inside it: refused (EPERM); nsx binds from outside.
        [ $tool = ul ] && [ $t = user ] && continue
        if [ $tool = ul ]; then unshare $fork --$opt=$f stat -L -c %i /proc/self/ns/$t > $D/seen
        else $NSX unshare $fork --$opt=$f stat -L -c %i /proc/self/ns/$t > $D/seen; fi
        echo "$tool $t seen=$(cat $D/seen) kept=$(stat -c %i $f) fs=$(stat -f -c %T $f)"
      done
    done`)
  assert.equal(r.status, 0, r.stderr)
  const lines = r.stdout.trim().split('\n')
  assert.equal(lines.length, 15, r.stdout)
  for (const l of lines) {
    const m = /^(\w+) (\w+) seen=(\d+) kept=(\d+) fs=(\S+)$/.exec(l)
    assert.ok(m, l)
    assert.equal(m[3], m[4], `${m[1]} ${m[2]}: the file holds the namespace the command saw`)
    assert.equal(m[5], 'nsfs', l)
  }
  t.diagnostic(lines.filter((l) => l.startsWith('nsx')).join('; '))
})

test('a kept namespace outlives the command: nsenter finds its hostname, its mounts and its links', (t) => {
  if (!guard(t)) return
  const dir = tempDir(t)
  const r = inOwnMountNs(dir, `
    mkdir $D/inside
    $NSX unshare --uts=$D/uts hostname nsx-kept
    $NSX unshare --mount=$D/mnt sh -c 'mount -t tmpfs none $D/inside && touch $D/inside/marker'
    $NSX unshare --net=$D/net ip link set lo up
    echo "host=$(nsenter --uts=$D/uts hostname)"
    echo "marker=$(nsenter --mount=$D/mnt ls $D/inside)"
    echo "outside=$(ls $D/inside | wc -l)"
    echo "lo=$(nsenter --net=$D/net ip -o link show lo | grep -c UP)"`)
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, 'host=nsx-kept\nmarker=marker\noutside=0\nlo=1\n')
})

test('a missing FILE is created in its existing directory; a pid namespace is kept once its first process exists', (t) => {
  if (!guard(t)) return
  const dir = tempDir(t)
  const r = inOwnMountNs(dir, `
    $NSX unshare --net=$D/fresh true
    echo "fresh=$(stat -f -c %T $D/fresh)"
    $NSX unshare -f --pid=$D/pid --mount-proc sh -c 'echo inner=$$'
    echo "pid=$(stat -f -c %T $D/pid)"
    echo "sleeping=$(nsenter --pid=$D/pid true 2>/dev/null && echo usable || echo dead)"`)
  assert.equal(r.status, 0, r.stderr)
  // The pid namespace's init exited: the namespace is kept but no process can join it (as with util-linux).
  assert.equal(r.stdout, 'fresh=nsfs\ninner=1\npid=nsfs\nsleeping=dead\n')
})

test('when a later bind mount fails, the earlier ones are undone and the files nsx created removed', (t) => {
  if (!guard(t)) return
  const dir = tempDir(t)
  const r = inOwnMountNs(dir, `
    mkdir $D/ro && mount -t tmpfs -o ro none $D/ro
    set +e
    for fork in '' -f; do
      $NSX unshare $fork --net=$D/first --uts=$D/ro/second sh -c 'exec sleep 7.31' 2> $D/err
      echo "status=$?"
      echo "mounts=$(grep -c "$D" /proc/self/mountinfo)"
      echo "first=$(ls $D | grep -c first)"
      echo "lines=$(wc -l < $D/err)"
      echo "sleeping=$(pgrep -f -c 'sleep 7.31$' || true)"
      cat $D/err
    done`)
  assert.equal(r.status, 0, r.stderr)
  const lines = r.stdout.trim().split('\n')
  for (const run of [lines.slice(0, 6), lines.slice(6, 12)]) {
    const [status, mounts, first, count, sleeping, err] = run
    assert.deepEqual([status, mounts, first, count, sleeping], ['status=125', 'mounts=1', 'first=0', 'lines=1', 'sleeping=0'], r.stdout)
    assert.match(err, /^nsx unshare: create .*\/ro\/second for the namespace bind mount: Read-only file system$/)
  }
})

test('nothing is kept when the command cannot start or the setup after --fork fails', (t) => {
  if (!guard(t)) return
  const dir = tempDir(t)
  const r = inOwnMountNs(dir, `
    set +e
    $NSX unshare --net=$D/a no-such-command-nsx 2>/dev/null; echo "a=$?"
    $NSX unshare -f --net=$D/b -w $D/missing true 2>/dev/null; echo "b=$?"
    $NSX unshare -f --net=$D/c -R $D/missing true 2>/dev/null; echo "c=$?"
    # Without -f the binds are made just before exec: an exec that fails (a command that is
    # not executable, or missing in the new root) must undo them too.
    $NSX unshare --net=$D/d /etc/passwd 2>/dev/null; echo "d=$?"
    $NSX unshare --net=$D/e --uts=$D/f -R / no-such-command-nsx 2>/dev/null; echo "e=$?"
    set -e
    echo "files=$(ls $D | wc -l) mounts=$(grep -c "$D" /proc/self/mountinfo || true)"`)
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, 'a=127\nb=125\nc=125\nd=126\ne=127\nfiles=0 mounts=0\n')
})

test('a mount namespace is kept even on a shared mount (nsx sets propagation first; util-linux fails), not with --propagation shared', (t) => {
  if (!guard(t)) return
  const dir = tempDir(t)
  const r = inOwnMountNs(dir, `
    mkdir $D/shared && mount --bind $D/shared $D/shared && mount --make-shared $D/shared
    touch $D/shared/ul
    set +e
    unshare --mount=$D/shared/ul true 2>/dev/null; echo "ul=$?"
    $NSX unshare --mount=$D/shared/nsx true 2>&1; echo "nsx=$? fs=$(stat -f -c %T $D/shared/nsx)"
    $NSX unshare --propagation shared --mount=$D/shared/bad true 2> $D/err; echo "shared=$? left=$(ls $D/shared | grep -c bad)"
    cat $D/err`)
  assert.equal(r.status, 0, r.stderr)
  const lines = r.stdout.trim().split('\n')
  assert.deepEqual(lines.slice(0, 3), ['ul=1', 'nsx=0 fs=nsfs', 'shared=125 left=0'], r.stdout)
  assert.match(lines[3], /^nsx unshare: bind-mount \/proc\/\d+\/ns\/mnt on .*: Invalid argument \(a mount namespace can be kept only on a mount that does not propagate into it/)
  assert.equal(lines.length, 4)
})

test('--kill-child=SIGNAL: when nsx dies the command gets SIGNAL, as with util-linux; without it the command lives on', (t) => {
  if (!guard(t)) return
  const dir = tempDir(t)
  // In a pid namespace of its own, whose init (the sh below) inherits the orphans this test makes
  // on purpose: they are reaped with it, not left to the test runner.
  const r = run('unshare', ['-pf', '--kill-child', '--mount-proc', 'sh', '-euc', `
    await() { i=0; while [ ! -e "$1" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; }
    for tool in ul nsx; do
      mark=$D/$tool-killed; ready=$D/$tool-ready
      body="trap 'echo TERM > $mark; exit 0' TERM; touch $ready; while :; do sleep 0.05; done"
      if [ $tool = ul ]; then unshare --kill-child=SIGTERM sh -c "$body" & else $NSX unshare --kill-child=SIGTERM sh -c "$body" & fi
      p=$!
      await $ready
      kids=$(cat /proc/$p/task/$p/children)
      kill -KILL $p; wait $p || true
      await $mark
      echo "$tool kids=$(echo $kids | wc -w) got=$(cat $mark)"
    done
    $NSX unshare -f sh -c "touch $D/plain-ready; exec sleep 30" &
    p=$!
    await $D/plain-ready
    kid=$(tr -d " " < /proc/$p/task/$p/children)
    kill -KILL $p; wait $p || true
    sleep 0.2
    echo "without=$(cat /proc/$kid/comm)"
    kill -KILL $kid`], {env: {...process.env, NO_COLOR: '1', NSX: `${process.execPath} ${NSX_BIN}`, D: dir}, cwd: '/'})
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, 'ul kids=1 got=TERM\nnsx kids=1 got=TERM\nwithout=sleep\n')
})
