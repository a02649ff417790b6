import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {buildBusyboxArchive} from '../helpers/busybox-image.js'
import {needContainerTools} from '../helpers/container.js'
import {needCommand, needRoot, nsx, REPO, run} from '../helpers/env.js'
import {extractTour, matchShape} from '../helpers/tour.js'

/**
 * Every ```console block of README.md runs here, as root, in a fresh directory with its own
 * store (NSX_ROOT) and a `busybox.tar` (docker save format, named busybox:latest, every busybox
 * applet linked): the image the tour loads. What each command prints must have the shape the
 * README shows (test/helpers/tour.ts says what that means). To add a tour example, add a
 * ```console block to README.md: "$ nsx ..." then the output you saw.
 */

const blocks = extractTour(readFileSync(join(REPO, 'README.md'), 'utf8'))

const SEPARATOR = '@@nsx-readme-tour@@'

test('README.md has a tour', () => {
  assert.ok(blocks.length >= 5, `only ${blocks.length} console blocks in README.md`)
  for (const b of blocks) for (const c of b.commands) assert.match(c.command, /\S/, `README.md:${c.line}: an empty command`)
})

test('README.md stays short: ~12 KB, the details in docs/', () => {
  const size = readFileSync(join(REPO, 'README.md')).length
  assert.ok(size <= 12 * 1024, `README.md is ${size} bytes; move details to docs/`)
})

test('every nsx command the README names exists', () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8')
  const manifest = JSON.parse(readFileSync(join(REPO, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, unknown>}
  const ids = new Set(Object.keys(manifest.commands).flatMap((id) => [id.replace(/:/g, ' '), id.split(':')[0]]))
  // In code: `nsx ps`, `nsx group`, a console line "$ nsx run ...", and a list of verbs after one (`create`, `start`).
  const named = new Set<string>()
  for (const m of readme.matchAll(/(?:`|\$ |\| )nsx ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?/g)) named.add(m[2] && ids.has(`${m[1]} ${m[2]}`) ? `${m[1]} ${m[2]}` : m[1])
  for (const m of readme.matchAll(/verbs are there too \(([^)]*)\)/g)) for (const v of m[1].matchAll(/`([a-z][a-z -]*)`/g)) named.add(v[1])
  const missing = [...named].filter((c) => !ids.has(c))
  assert.deepEqual(missing, [], `README.md names commands nsx does not have: ${missing.join(', ')}`)
  assert.ok(named.size >= 20, `only ${named.size} commands found in README.md`)
})

test('every README tour example runs and prints what the README shows', async (t) => {
  if (!needRoot(t) || !needContainerTools(t) || !needCommand(t, 'umoci', 'umoci') || !needCommand(t, 'skopeo', 'skopeo')) return
  const dir = mkdtempSync(join(tmpdir(), 'nsx-readme-'))
  const env = {
    ...process.env,
    NSX_ROOT: join(dir, 'store'),
    PATH: `${join(REPO, 'bin')}:${dirname(process.execPath)}:${process.env.PATH}`,
    NO_COLOR: '1',
  }
  t.after(() => {
    const ps = nsx(['ps', '--json'], {env})
    const running = ps.status === 0 ? (JSON.parse(ps.stdout) as {name: string}[]).map((c) => c.name) : []
    if (running.length > 0) nsx(['stop', '-t', '0', ...running], {env})
    nsx(['gc'], {env})
    rmSync(dir, {recursive: true, force: true})
  })
  buildBusyboxArchive(dir)

  for (const block of blocks) {
    await t.test(`README.md:${block.line}`, () => {
      // One shell per block: each command's output follows a separator line with its index.
      // Only stdout is compared: stderr carries notes that depend on the host (another user's
      // processes nsx may not read), and is shown when something fails.
      const script = [...block.commands.map((c, i) => `echo '${SEPARATOR} ${i}'\n${c.command}\necho "${SEPARATOR} status $?"`)].join('\n')
      const r = run('sh', ['-c', script], {cwd: dir, env, timeout: 120000})
      const parts = r.stdout.split(new RegExp(`^${SEPARATOR} (\\d+)\\n`, 'm'))
      block.commands.forEach((c, i) => {
        const at = parts.indexOf(String(i))
        assert.ok(at > 0, `README.md:${c.line}: \`${c.command}\` did not run (the block's shell stopped before it):\n${r.stdout}`)
        const [output, status] = parts[at + 1].split(new RegExp(`^${SEPARATOR} status (\\d+)\\n?`, 'm'))
        assert.equal(status, '0', `README.md:${c.line}: \`${c.command}\` exited ${status}:\n${output}\nstderr of the block:\n${r.stderr}`)
        const m = matchShape(c.expected, output.split('\n'))
        if (!m.ok) assert.fail(`README.md:${c.line}: \`${c.command}\`: ${m.why}\nit printed:\n${output}\nstderr of the block:\n${r.stderr}`)
      })
    })
  }
})
