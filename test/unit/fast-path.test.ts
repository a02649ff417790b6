import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import type {OptionSpec} from '../../src/cli/getopt.js'
import {REPO} from '../helpers/env.js'

/**
 * The fast path (bin/nsx's FAST table: a command run without loading oclif) parses with its
 * own getopt table, and oclif's command class declares the flags again for --help, the man
 * page and completion (docs/architecture.md, "The fast path", says why there are two). This
 * test is what keeps the two lists one: the same long options, the same letters, the same
 * "takes a value". --help and --version are answered before either parser (bin/nsx, oclif).
 */

/** bin/nsx's FAST table: command -> the module (under src/) that runs it. */
function fastCommands(): Map<string, string> {
  const text = readFileSync(join(REPO, 'bin', 'nsx'), 'utf8')
  const table = /const FAST = \{([\s\S]*?)\n\}/.exec(text)
  assert.ok(table, 'bin/nsx has no FAST table')
  const out = new Map<string, string>()
  for (const m of table[1].matchAll(/^\s*([\w-]+): \['[^']+', '\.\.\/dist\/(src\/[^']+)\.js'/gm)) out.set(m[1], `${m[2]}.ts`)
  return out
}

/** The getopt table of a fast command: NAME_OPTIONS, exported by its module or by the module of src/ that defines it. */
async function optionTable(command: string, module: string): Promise<readonly OptionSpec[]> {
  const name = `${command.toUpperCase().replace(/-/g, '_')}_OPTIONS`
  const defines = new RegExp(`^export const ${name}\\b`, 'm')
  const definers = tsFiles(join(REPO, 'src')).filter((f) => defines.test(readFileSync(f, 'utf8')))
  for (const file of [join(REPO, module), ...definers]) {
    if (!existsSync(file)) continue
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>
    if (Array.isArray(mod[name])) return mod[name] as OptionSpec[]
  }
  assert.fail(`the fast path of nsx ${command} has no ${name}: neither ${module} nor any module of src/ exports it`)
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []))
}

interface OclifFlag {
  name: string
  char?: string
  type: 'boolean' | 'option'
}

async function oclifFlags(command: string): Promise<OclifFlag[]> {
  const mod = (await import(pathToFileURL(join(REPO, 'commands', `${command}.ts`)).href)) as {
    default: {flags?: Record<string, OclifFlag>; baseFlags?: Record<string, OclifFlag>; enableJsonFlag?: boolean}
  }
  const cls = mod.default
  const flags = {...(cls.baseFlags ?? {}), ...(cls.flags ?? {})}
  const out = Object.entries(flags).map(([name, f]) => ({name, char: f.char, type: f.type}))
  if (cls.enableJsonFlag && !out.some((f) => f.name === 'json')) out.push({name: 'json', type: 'boolean'})
  return out
}

const ANSWERED_BEFORE_PARSING = new Set(['help', 'version'])

const describeSpec = (long: string, short: string | undefined, value: boolean) => `--${long}${short ? ` (-${short})` : ''}${value ? ' VALUE' : ''}`

for (const [command, module] of fastCommands()) {
  test(`nsx ${command}: the fast path's options are the oclif command's flags`, async () => {
    const specs = await optionTable(command, module)
    const flags = await oclifFlags(command)
    // One option may be two specs with one key (unshare: -m takes no value, --mount[=FILE] may).
    const byKey = new Map<string, {long?: string; short?: string; value: boolean}>()
    for (const s of specs) {
      const o = byKey.get(s.key) ?? {value: false}
      if (s.long !== undefined) {
        o.long = s.long
        o.value = s.arg !== 'none'
      }
      o.short ??= s.short
      byKey.set(s.key, o)
    }
    const fast = new Set(
      [...byKey.values()].filter((o) => o.long !== undefined && !ANSWERED_BEFORE_PARSING.has(o.long)).map((o) => describeSpec(o.long!, o.short, o.value)),
    )
    const oclif = new Set(flags.filter((f) => !ANSWERED_BEFORE_PARSING.has(f.name)).map((f) => describeSpec(f.name, f.char, f.type === 'option')))
    const onlyFast = [...fast].filter((x) => !oclif.has(x)).sort()
    const onlyOclif = [...oclif].filter((x) => !fast.has(x)).sort()
    assert.deepEqual(
      {onlyFast, onlyOclif},
      {onlyFast: [], onlyOclif: []},
      `nsx ${command}: ${module}'s getopt table and commands/${command}.ts disagree (onlyFast: parsed but not in --help; onlyOclif: in --help but refused)`,
    )
  })
}

test('bin/nsx has fast-path commands, each with its oclif command', () => {
  const fast = fastCommands()
  assert.ok(fast.size >= 8, `only ${fast.size} commands in bin/nsx's FAST table`)
  for (const command of fast.keys()) assert.ok(existsSync(join(REPO, 'commands', `${command}.ts`)), `commands/${command}.ts is missing`)
})

test('docs/architecture.md names every command of the FAST table, and no other', () => {
  const doc = readFileSync(join(REPO, 'docs', 'architecture.md'), 'utf8')
  const m = /commands of its `FAST` table \(([^)]*)\)/.exec(doc)
  assert.ok(m, 'docs/architecture.md ("The fast path") no longer lists the FAST table')
  const listed = [...m[1].matchAll(/`([\w-]+)`/g)].map((x) => x[1]).sort()
  assert.deepEqual(listed, [...fastCommands().keys()].sort(), 'the FAST table of bin/nsx and its list in docs/architecture.md disagree')
})
