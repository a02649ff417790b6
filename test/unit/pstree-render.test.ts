import {test} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {REPO} from '../helpers/env.js'
import {ProcSnapshot} from '../../src/pidns/snapshot.js'
import {TreeOptions, buildTree} from '../../src/pidns/tree.js'
import {commandLine, renderProcessTree} from '../../src/pidns/render.js'
import {printable} from '../../src/render/printable.js'
import {palette} from '../../src/render/colour.js'
import {ASCII_GLYPHS} from '../../src/render/tree.js'
import type {DescribePidNs} from '../../src/pidns/relations.js'

const PROC = join(REPO, 'test/unit/fixtures/pstree-nested/proc')
const plain = palette({isTTY: false})

// What the nsfs ioctls would answer for the fixture's namespaces.
const describe: DescribePidNs = (_pid, inode) =>
  inode === 4026532400 ? {owner: {inode: 4026532402, uid: 65534}, parent: 4026532300} : {owner: {inode: 4026531837, uid: 0}}

function view(opts: TreeOptions, render: {uidChanges?: boolean; args?: boolean; ascii?: boolean; colour?: boolean} = {}): string {
  const tree = buildTree(ProcSnapshot.read(PROC), {describe, ...opts})
  const pal = render.colour ? palette({isTTY: true}) : plain
  return renderProcessTree(tree, {palette: pal, uidChanges: render.uidChanges, args: render.args, glyphs: render.ascii ? ASCII_GLYPHS : undefined})
}

test('the host view: one boundary per pid namespace, processes below it, pids outermost first, pstree -S style marks', () => {
  assert.equal(
    view({}),
    `pid:[4026531836] level 0, owner user:[4026531837] uid 0
└─systemd(1)
  ├─sshd(50)
  │ └─bash(51)
  │   └─nsenter(66)
  │     └─pid:[4026532300] level 1, owner user:[4026531837] uid 0
  │       └─bash(67/7) [mnt,net,uts,ipc]
  ├─containerd-shim(60) {3 threads}
  │ └─pid:[4026532300] level 1, owner user:[4026531837] uid 0
  │   └─sh(61/1) [mnt,net,uts,ipc]
  │     ├─sleep(62/2)
  │     ├─unshare(63/3) [mnt,user]
  │     │ └─pid:[4026532400] level 2, owner user:[4026532402] uid 65534
  │     │   └─sh(64/4/1)
  │     │     └─sleep(65/5/2) <defunct>
  │     └─runner(68/8)
  │       └─job(69/9)
  ├─launcher(70)
  │ ├─pid:[?] level 1 (namespace links not readable)
  │ │ └─init-a(71/1)
  │ │   └─worker(73/2)
  │ └─pid:[?] level 1 (namespace links not readable)
  │   └─init-b(72/1)
  └─agent(90)
    └─agent-worker(91)
`,
  )
})

test('-u shows the user where it changes; -a the command line without a repeated argv[0], quoted where needed; threads listed', () => {
  assert.equal(
    view({args: true, threads: true, pid: 1}, {uidChanges: true, args: true, ascii: true}),
    `pid:[4026531836] level 0, owner user:[4026531837] uid 0
\`-systemd(1) /sbin/init splash
  |-sshd(50) 'sshd: alice [priv]'
  | \`-bash(51,nobody)
  |   \`-nsenter(66,root) -t 61 -p -m -n -u -i bash
  |     \`-pid:[4026532300] level 1, owner user:[4026531837] uid 0
  |       \`-bash(67/7) [mnt,net,uts,ipc]
  |-containerd-shim(60) -namespace moby -id abc
  | |-pid:[4026532300] level 1, owner user:[4026531837] uid 0
  | | \`-sh(61/1) [mnt,net,uts,ipc] -c 'echo '\\''hi there'\\''; sleep 1d'
  | |   |-sleep(62/2,nobody) 1d
  | |   |-unshare(63/3) [mnt,user] -Urpf --mount-proc sh
  | |   | \`-pid:[4026532400] level 2, owner user:[4026532402] uid 65534
  | |   |   \`-sh(64/4/1)
  | |   |     \`-sleep(65/5/2) <defunct>
  | |   \`-runner(68/8)
  | |     \`-job(69/9)
  | |-{containerd-shim}(600)
  | \`-{gc worker}(601)
  |-launcher(70)
  | |-pid:[?] level 1 (namespace links not readable)
  | | \`-init-a(71/1)
  | |   \`-worker(73/2)
  | \`-pid:[?] level 1 (namespace links not readable)
  |   \`-init-b(72/1)
  \`-agent(90) 'tab\\x09here'
    \`-agent-worker(91)
`,
  )
})

test('a subtree inside a namespace opens with that namespace\'s boundary, naming its parent namespace', () => {
  assert.equal(
    view({pid: 64}),
    `pid:[4026532400] level 2, owner user:[4026532402] uid 65534, parent pid:[4026532300]
└─sh(64/4/1)
  └─sleep(65/5/2) <defunct>
`,
  )
})

test('--ns view: every top process of the namespace under one boundary', () => {
  assert.equal(
    view({ns: 4026532300}),
    `pid:[4026532300] level 1, owner user:[4026531837] uid 0, parent pid:[4026531836]
├─sh(61/1) [mnt,net,uts,ipc]
│ ├─sleep(62/2)
│ ├─unshare(63/3) [mnt,user]
│ │ └─pid:[4026532400] level 2, owner user:[4026532402] uid 65534
│ │   └─sh(64/4/1)
│ │     └─sleep(65/5/2) <defunct>
│ └─runner(68/8)
│   └─job(69/9)
└─bash(67/7) [mnt,net,uts,ipc]
`,
  )
})

test('colour only when asked for: boundaries, marks and zombies get ANSI escapes, plain output has none', () => {
  const coloured = view({pid: 63}, {colour: true})
  assert.match(coloured, /\u001b\[1m\u001b\[36mpid:\[4026532400\] level 2/)
  assert.match(coloured, /\u001b\[33m\[mnt,user\]\u001b\[39m/)
  assert.match(coloured, /\u001b\[31m<defunct>\u001b\[39m/)
  assert.doesNotMatch(view({pid: 63}), /\u001b/)
})

test('names and arguments cannot inject terminal escapes', () => {
  assert.equal(printable('evil\u001b[2Jname\n'), 'evil\\x1b[2Jname\\x0a')
  assert.equal(commandLine({name: 'x', args: ['x', 'a\u001bb']}), `'a\\x1bb'`)
})

test('commandLine drops argv[0] when it is the name, a path to it, a login shell\'s -name, or its 15-character cut', () => {
  assert.equal(commandLine({name: 'sleep', args: ['/bin/sleep', '5']}), '5')
  assert.equal(commandLine({name: 'bash', args: ['-bash']}), '')
  assert.equal(commandLine({name: 'containerd-shim', args: ['/usr/bin/containerd-shim-runc-v2', '-id', 'x']}), '-id x')
  assert.equal(commandLine({name: 'python3', args: ['/usr/bin/python3.11', 'app.py']}), '/usr/bin/python3.11 app.py')
  assert.equal(commandLine({name: 'sh', args: ['sh', '', 'a b', "it's"]}), `'' 'a b' 'it'\\''s'`)
})
