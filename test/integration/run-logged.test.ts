import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {needCommand, NSX_BIN} from '../helpers/env.js'
import {containerToolsPresent, Fixture, makeFixture, needContainerTools} from '../helpers/container.js'

/**
 * docker keeps the logs of every container, not only detached ones: `docker logs` works after
 * a foreground `docker run`. nsx's foreground supervisor logs and relays at once.
 */

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-run-logged-') : undefined

test('a foreground run is logged (stdout and stderr apart) and its output still reaches nsx\'s stdout and stderr; -t too; --rm is not logged; a reader gone ends the command as before', (t) => {
  if (!needContainerTools(t) || !needCommand(t, 'script', 'util-linux')) return
  const f = fx!
  t.after(() => {
    for (const n of ['fg-plain', 'fg-tty', 'fg-pipe']) f.nsx(['rm', '-f', n])
  })
  const r = f.nsx(['run', '--name', 'fg-plain', '--layer', f.base, '--', 'sh', '-c', 'echo out1; echo err1 >&2; echo out2; exit 3'])
  assert.equal(r.status, 3, r.stderr)
  assert.equal(r.stdout, 'out1\nout2\n')
  assert.equal(r.stderr, 'err1\n')
  const logs = f.nsx(['logs', 'fg-plain'])
  assert.equal(logs.status, 0, logs.stderr)
  assert.equal(logs.stdout, 'out1\nout2\n')
  assert.equal(logs.stderr, 'err1\n')
  // A second start in the foreground appends, as docker's log does.
  assert.equal(f.nsx(['start', '-a', 'fg-plain']).status, 3)
  assert.equal(f.nsx(['logs', 'fg-plain']).stdout, 'out1\nout2\nout1\nout2\n')

  // -t: the terminal's output, logged as stdout (as docker does with a tty).
  const cmd = [process.execPath, NSX_BIN, 'run', '-t', '--name', 'fg-tty', '--layer', f.base, '--', 'sh', '-c', 'tty; echo hi; exit 4'].map((a) => `'${a}'`).join(' ')
  const s = spawnSync('script', ['-qfec', `${cmd}; echo "status=$?"`, '/dev/null'], {env: f.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})
  assert.match(s.stdout.replace(/\r/g, ''), /^\/dev\/pts\/0\nhi\nstatus=4\n$/)
  assert.equal(f.nsx(['logs', 'fg-tty']).stdout.replace(/\r/g, ''), '/dev/pts/0\nhi\n')

  // The reader of nsx's stdout gone: the command meets a closed pipe (SIGPIPE: 141), nothing hangs.
  const p = spawnSync('sh', ['-c', `${process.execPath} ${NSX_BIN} run --name fg-pipe --layer ${f.base} -- sh -c 'yes | head -c 1000000; exec yes' | head -c 10 > /dev/null; echo "\${PIPESTATUS:-done}"`], {env: f.env, encoding: 'utf8', timeout: 60000})
  assert.equal(p.status, 0, p.stderr)
  const w = f.nsx(['wait', 'fg-pipe'])
  assert.equal(w.stdout, '141\n')

  // --rm: nothing kept, nothing logged.
  assert.equal(f.nsx(['run', '--rm', '--layer', f.base, '--', 'echo', 'gone']).stdout, 'gone\n')
  assert.deepEqual(readdirSync(join(f.store, 'run')).filter((d) => !existsSync(join(f.store, 'run', d, 'config.json'))), [])
})
