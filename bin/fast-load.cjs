// Loading a fast bundle (dist/fast/NAME.cjs) with a V8 code cache beside it (NAME.cjs.cache), so
// V8 does not parse and compile its top level again at every command: about 6 ms of the ~10 ms a
// 250 KB bundle costs to load here (bench/README.md, "The fast bundles' code cache"). Node 20 has
// no module.enableCompileCache (22.1+), so this is vm.Script's cachedData, as v8-compile-cache does.
//
// The caches are made by `npm run build:fast` (`node bin/fast-load.cjs dist/fast`), in dist/ with
// the bundles' own owner and modes: nothing is written at run time, so a root command never writes
// where another user could have put something. A cache starts with the size and modification time
// (in ns) of the bundle it was made from: a cache of another bundle (rebuilt, or edited, without
// its cache) is not used, and V8 itself refuses one of another Node version or other V8 flags
// (`cachedDataRejected`): the bundle then compiles as without a cache. Not a hash of the bundle:
// loading node:crypto alone costs 8-10 ms here, more than the cache saves. The bundles must hold no dynamic import() (esbuild's
// --supported:dynamic-import=false turns them into require): a script compiled from a cache
// loses vm's import() callback.
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const vm = require('node:vm')
const Module = require('node:module')

const HEADER = 48 // "SIZE MTIME_NS", space-padded, and a newline

/** What a cache is keyed by: the bundle's size and modification time, in a fixed-width line. */
function key(stat) {
  return `${stat.size} ${stat.mtimeNs}`.padEnd(HEADER - 1, ' ')
}

/** The bundle's bytes and key, from one open file (its stat is of what was read). */
function readBundle(file) {
  const fd = fs.openSync(file, 'r')
  try {
    return {source: fs.readFileSync(fd), key: key(fs.fstatSync(fd, {bigint: true}))}
  } finally {
    fs.closeSync(fd)
  }
}

function compile(file, source, cachedData) {
  return new vm.Script(Module.wrap(source.toString('utf8')), {filename: file, cachedData})
}

function cacheFor(file, bundleKey) {
  let data
  try {
    data = fs.readFileSync(`${file}.cache`)
  } catch {
    return undefined
  }
  if (data.length <= HEADER || data.toString('latin1', 0, HEADER - 1) !== bundleKey) return undefined
  return data.subarray(HEADER)
}

function run(script, file) {
  const mod = {exports: {}}
  script.runInThisContext()(mod.exports, Module.createRequire(file), mod, file, path.dirname(file))
  return mod.exports
}

/**
 * The exports of bundle FILE, as require(FILE) gives them. A missing bundle throws an error with
 * code MODULE_NOT_FOUND, as require does.
 */
function loadFast(file) {
  let bundle
  try {
    bundle = readBundle(file)
  } catch (err) {
    if (err.code !== 'ENOENT') throw err
    throw Object.assign(new Error(`Cannot find module '${file}'`), {code: 'MODULE_NOT_FOUND'})
  }
  return run(compile(file, bundle.source, cacheFor(file, bundle.key)), file)
}

/** Whether FILE's cache is there, made from FILE as it is now, and taken by V8 (for the tests). */
function cacheAccepted(file) {
  const bundle = readBundle(file)
  const cachedData = cacheFor(file, bundle.key)
  return cachedData !== undefined && !compile(file, bundle.source, cachedData).cachedDataRejected
}

// Run by node itself with the service's own V8 flags (src/api/service.ts), never through loadFast.
const NOT_LOADED_HERE = new Set(['service.cjs'])

/** Write DIR/NAME.cjs.cache for every bundle in DIR that bin/nsx loads (the compiled top level; nothing is run). */
function buildCaches(dir) {
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.cjs') && !NOT_LOADED_HERE.has(n)).sort()) {
    const file = path.join(dir, name)
    const bundle = readBundle(file)
    const data = compile(file, bundle.source).createCachedData()
    const tmp = `${file}.cache.tmp-${process.pid}`
    fs.writeFileSync(tmp, Buffer.concat([Buffer.from(`${bundle.key}\n`, 'latin1'), data]))
    fs.renameSync(tmp, `${file}.cache`)
  }
}

module.exports = {loadFast, cacheAccepted, buildCaches}

if (require.main === module) buildCaches(path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'dist', 'fast')))
