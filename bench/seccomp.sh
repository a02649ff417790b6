#!/usr/bin/env bash
# The seccomp filter's cost, against runc running docker's default profile (what docker hands
# it), in the same run:
#   1. `nsx run --rm true` with the default filter against --security-opt seccomp=unconfined
#      (the compiled program cached in the store, as after a container's first run), and with
#      the cache removed before each run (libseccomp compiles it: a store's first run);
#      target: under 1 ms added to a run.
#   2. A syscall loop inside (the static probe's `syscall-loop N`: N getppid(2), the filter
#      run on each), under nsx with and without the filter and under runc with the same profile
#      in OCI form; the probe times its own loop, so only the per-call cost is compared.
#      Target: no slower than under runc.
# Needs root, hyperfine, runc, busybox-static, gcc (Debian packages of the same names).
set -euo pipefail
export NSX_NETWORK=none # never a bridge on the host's network from a benchmark
cd "$(dirname "$0")/.."
RUNS=${RUNS:-30}
LOOP=${LOOP:-2000000}
[ "$(id -u)" = 0 ] || { echo "bench/seccomp.sh: needs root" >&2; exit 1; }
for c in hyperfine runc busybox gcc; do
  command -v $c >/dev/null || { echo "bench/seccomp.sh: needs $c" >&2; exit 1; }
done
[ -f dist/src/security/seccomp-plan.js ] && [ -x native/build/nsx-exec ] || { echo "bench/seccomp.sh: build first (npm run build)" >&2; exit 1; }

tmp=$(mktemp -d)
cleanup() {
  runc --root "$tmp/runc" delete --force nsx-bench-sec >/dev/null 2>&1 || true
  NSX_ROOT="$tmp/store" node bin/nsx gc >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
export NSX_ROOT="$tmp/store"
repo=$PWD

mkdir -p "$tmp/l1/bin" "$tmp/l1/etc" "$tmp/l1/dev" "$tmp/l1/proc" "$tmp/l1/sys" "$tmp/l1/tmp"
cp "$(command -v busybox)" "$tmp/l1/bin/busybox"
for a in sh true; do ln -s busybox "$tmp/l1/bin/$a"; done
gcc -static -O2 -o "$tmp/l1/bin/probe" test/helpers/probe.c
echo 'root:x:0:0:root:/root:/bin/sh' > "$tmp/l1/etc/passwd"
mkdir -p "$tmp/bundle/rootfs"
cp -a "$tmp/l1/." "$tmp/bundle/rootfs/"
(cd "$tmp/bundle" && runc spec)
# runc's default spec with docker's capabilities and nsx's default profile resolved for them.
node --input-type=module -e '
import {readFileSync, writeFileSync} from "node:fs"
const {DEFAULT_CAPS} = await import(process.argv[2] + "/dist/src/container/spec.js")
const {DEFAULT_SECCOMP_PROFILE} = await import(process.argv[2] + "/dist/src/security/seccomp-default.js")
const {hostTarget, ociSeccomp, resolveSeccomp} = await import(process.argv[2] + "/dist/src/security/seccomp-plan.js")
const f = process.argv[1], c = JSON.parse(readFileSync(f, "utf8"))
c.process.terminal = false
c.process.args = ["probe", "syscall-loop", process.argv[3]]
for (const s of ["bounding", "effective", "permitted"]) c.process.capabilities[s] = DEFAULT_CAPS
delete c.process.rlimits
c.root.readonly = false
c.linux.seccomp = ociSeccomp(resolveSeccomp(DEFAULT_SECCOMP_PROFILE, hostTarget(DEFAULT_CAPS), "default"))
writeFileSync(f, JSON.stringify(c))' "$tmp/bundle/config.json" "$repo" "$LOOP"

NSX="node $repo/bin/nsx run --rm --layer $tmp/l1 --"
$NSX true || { echo "bench/seccomp.sh: nsx run failed" >&2; exit 1; }

echo "== nsx run --rm true: default filter (cached), unconfined, default filter compiled each run =="
# (--prepare once per command: only the third removes the cache)
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$tmp/run.json" \
  --prepare true --prepare true --prepare "rm -rf $tmp/store/seccomp" \
  --command-name filtered "$NSX true" \
  --command-name unconfined "node $repo/bin/nsx run --rm --security-opt seccomp=unconfined --layer $tmp/l1 -- true" \
  --command-name compiled "$NSX true" >/dev/null
node -e '
const r = require(process.argv[1]).results
const by = Object.fromEntries(r.map((x) => [x.command, x]))
for (const x of r) console.log(`${x.command.padEnd(11)} mean ${(x.mean * 1000).toFixed(1)} ms  median ${(x.median * 1000).toFixed(1)} ms  ±${(x.stddev * 1000).toFixed(1)}`)
console.log(`filter cost (cached): ${((by.filtered.median - by.unconfined.median) * 1000).toFixed(2)} ms median, ${((by.filtered.mean - by.unconfined.mean) * 1000).toFixed(2)} ms mean; compiled each run: ${((by.compiled.median - by.unconfined.median) * 1000).toFixed(2)} ms median`)' "$tmp/run.json"

echo "== the executor alone: no filter; the default filter read from the cache, loaded, true exec'd under it; the same compiled by libseccomp =="
text=$(node --input-type=module -e '
const {DEFAULT_CAPS} = await import(process.argv[1] + "/dist/src/container/spec.js")
const {DEFAULT_SECCOMP_PROFILE} = await import(process.argv[1] + "/dist/src/security/seccomp-default.js")
const {encodeSeccomp, hostTarget, resolveSeccomp} = await import(process.argv[1] + "/dist/src/security/seccomp-plan.js")
process.stdout.write(encodeSeccomp(resolveSeccomp(DEFAULT_SECCOMP_PROFILE, hostTarget(DEFAULT_CAPS), "default")))' "$repo")
native/build/nsx-exec seccomp-check "$text" "$tmp/cached.bpf" >/dev/null
# The filter's whole part of a run: make it (read the cache, or compile), load it, exec under it.
hyperfine -N --warmup 10 --runs 300 --export-json "$tmp/exec.json" \
  --command-name "no filter" "native/build/nsx-exec no-new-privs exec true" \
  --command-name cached "native/build/nsx-exec seccomp '$text' $tmp/cached.bpf no-new-privs seccomp-load exec true" \
  --command-name compiled "native/build/nsx-exec seccomp '$text' - no-new-privs seccomp-load exec true" >/dev/null
node -e '
const r = require(process.argv[1]).results
for (const x of r) console.log(`${x.command.padEnd(11)} mean ${(x.mean * 1000).toFixed(3)} ms  median ${(x.median * 1000).toFixed(3)} ms`)
console.log(`added by the filter: cached ${((r[1].median - r[0].median) * 1000).toFixed(3)} ms median (${((r[1].mean - r[0].mean) * 1000).toFixed(3)} mean); compiled ${((r[2].median - r[0].median) * 1000).toFixed(2)} ms median`)' "$tmp/exec.json"

echo "== a loop of $LOOP getppid(2) inside: ns per call (5 runs each, interleaved; best and median) =="
declare -A results
for i in 1 2 3 4 5; do
  results[nsx]+="$($NSX probe syscall-loop "$LOOP" | awk '{print $3}') "
  results[unconfined]+="$(node "$repo/bin/nsx" run --rm --security-opt seccomp=unconfined --layer "$tmp/l1" -- probe syscall-loop "$LOOP" | awk '{print $3}') "
  results[runc]+="$(runc --root "$tmp/runc" run -b "$tmp/bundle" nsx-bench-sec | awk '{print $3}') "
done
for k in nsx runc unconfined; do
  echo "$k ${results[$k]}" | node -e '
const [k, ...v] = require("fs").readFileSync(0, "utf8").trim().split(/\s+/)
const n = v.map(Number).sort((a, b) => a - b)
console.log(`${k.padEnd(11)} best ${n[0].toFixed(1)} ns  median ${n[2].toFixed(1)} ns  (${n.join(", ")})`)'
done
