// Loading a fast bundle (dist/fast/NAME.cjs) with a V8 code cache beside it (NAME.cjs.cache), so
// V8 does not parse and compile its top level again at every command: about 6 ms of the ~10 ms a
// 250 KB bundle costs to load here (bench/README.md, "The fast bundles' code cache"). Node 20 has
// no module.enableCompileCache (22.1+), so this is vm.Script's cachedData, as v8-compile-cache does.
//
// The caches are made by `npm run build:fast` (`node bin/fast-load.cjs dist/fast`), in dist/ with
// the bundles' own owner and modes: nothing is written at run time, so a root command never writes
// where another user could have put something. A cache starts with the sha256 of the bundle it was
// made from; a cache of another bundle (rebuilt without its cache) is not used, and V8 itself
// refuses one of another Node version or other V8 flags (`cachedDataRejected`): the bundle then
// compiles as without a cache. The bundles must hold no dynamic import() (esbuild's
// --supported:dynamic-import=false turns them into require): a script compiled from a cache
// loses vm's import() callback.
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const vm = require('node:vm')
const Module = require('node:module')

const HEADER = 65 // the sha256 of the bundle in hex, and a newline

function digest(source) {
  return require('node:crypto').createHash('sha256').update(source).digest('hex')
}

function compile(file, source, cachedData) {
  return new vm.Script(Module.wrap(source.toString('utf8')), {filename: file, cachedData})
}

function cacheFor(file, source) {
  let data
  try {
    data = fs.readFileSync(`${file}.cache`)
  } catch {
    return undefined
  }
  if (data.length <= HEADER || data.toString('latin1', 0, HEADER - 1) !== digest(source)) return undefined
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
  let source
  try {
    source = fs.readFileSync(file)
  } catch (err) {
    if (err.code !== 'ENOENT') throw err
    throw Object.assign(new Error(`Cannot find module '${file}'`), {code: 'MODULE_NOT_FOUND'})
  }
  return run(compile(file, source, cacheFor(file, source)), file)
}

/** Whether FILE's cache is there, made from FILE as it is now, and taken by V8 (for the tests). */
function cacheAccepted(file) {
  const source = fs.readFileSync(file)
  const cachedData = cacheFor(file, source)
  return cachedData !== undefined && !compile(file, source, cachedData).cachedDataRejected
}

// Run by node itself with the service's own V8 flags (src/api/service.ts), never through loadFast.
const NOT_LOADED_HERE = new Set(['service.cjs'])

/** Write DIR/NAME.cjs.cache for every bundle in DIR that bin/nsx loads (the compiled top level; nothing is run). */
function buildCaches(dir) {
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.cjs') && !NOT_LOADED_HERE.has(n)).sort()) {
    const file = path.join(dir, name)
    const source = fs.readFileSync(file)
    const data = compile(file, source).createCachedData()
    const tmp = `${file}.cache.tmp-${process.pid}`
    fs.writeFileSync(tmp, Buffer.concat([Buffer.from(`${digest(source)}\n`, 'latin1'), data]))
    fs.renameSync(tmp, `${file}.cache`)
  }
}

module.exports = {loadFast, cacheAccepted, buildCaches}

if (require.main === module) buildCaches(path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'dist', 'fast')))
