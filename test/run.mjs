// Runs the test suites with node's built-in runner (tsx loads TypeScript).
// `node test/run.mjs [unit|integration|FILE.test.ts...] [more node --test args]`.
// Integration tests run one file at a time: they compare host-wide views (lsns, pstree)
// that a concurrent test would disturb. Afterwards, a leak check: anything the tests left
// (mounts, network namespaces, cgroups, temp entries, processes) fails the run under CI
// and is reported otherwise (other people's work on a shared machine makes it noisy there).
import {spawn} from 'node:child_process'
import {readdirSync, statSync} from 'node:fs'
import {dirname, join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'
import {becomeSubreaper, leftovers, reapAdopted, snapshot} from './leaks.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const suites = ['unit', 'integration']
const args = process.argv.slice(2)
const chosen = args[0] && suites.includes(args[0]) ? [args.shift()] : suites
const inCI = process.env.CI === 'true' || process.env.CI === '1'

function collect(dir) {
  const out = []
  let entries = []
  try {
    entries = readdirSync(dir)
  } catch {
    return out
  }
  for (const e of entries.sort()) {
    const p = join(dir, e)
    if (e === 'fixtures' || e === 'node_modules') continue
    if (statSync(p).isDirectory()) out.push(...collect(p))
    else if (e.endsWith('.test.ts')) out.push(p)
  }
  return out
}

// Test files named on the command line run alone: `node test/run.mjs test/integration/ls.test.ts`.
const named = args.filter((a) => a.endsWith('.test.ts'))
for (const f of named) args.splice(args.indexOf(f), 1)
const files = named.length > 0 ? named : chosen.flatMap((s) => collect(join(here, s))).map((f) => relative(process.cwd(), f))
if (files.length === 0) {
  console.error('no test files found')
  process.exit(1)
}
becomeSubreaper()
const before = snapshot()
// A file whose tests are done exits even if something it started still holds its event loop (an
// after hook that threw before the next stopped a service: the whole suite waited on it for good),
// and no one test runs past 30 minutes; what was left is then the leak check's to report.
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', '--test-force-exit', '--test-timeout=1800000', ...args, ...files], {
  stdio: 'inherit',
  // Containers of the suite get no network by default: only the network tests (in network
  // namespaces of their own) use bridges, so nothing touches the host's (docs/networking.md).
  env: {...process.env, NSX_NETWORK: 'none'},
})
// As a subreaper we adopt what tests orphan, and must reap it as init would.
const reaper = setInterval(() => reapAdopted(process.pid, new Set([child.pid])), 500)
const status = await new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))))
clearInterval(reaper)
const left = await leftovers(before, process.pid)
if (left.length > 0) {
  console.error(`\nleak check: the tests left ${left.length} thing(s) behind:`)
  for (const l of left) console.error(`  ${l}`)
  if (inCI) process.exit(1)
  console.error('(reported, not failed: outside CI other work on this machine can cause these)')
}
process.exit(status)
