#!/usr/bin/env bash
# nsx unshare against util-linux unshare and `node -e 0`, in one hyperfine run: the
# rootless case (-r true) and the full case as root (-rmuinpCTf --mount-proc true).
# Prints each mean and the ratios; the target is nsx unshare -r within 1.6x of node -e 0
# (Node's own start-up is the floor; everything above it is ours). Needs hyperfine.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-30}
command -v hyperfine >/dev/null || { echo "bench/unshare.sh: needs hyperfine (Debian package hyperfine)" >&2; exit 1; }
[ -f dist/src/unshare/main.js ] && [ -x native/build/nsx-exec ] || { echo "bench/unshare.sh: build first (npm run build)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
full="-r -m -u -i -n -p -C -T -f --mount-proc"

hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$tmp/unshare.json" \
  "node -e 0" "unshare -r true" "node bin/nsx unshare -r true" "unshare $full true" "node bin/nsx unshare $full true"

node - "$tmp/unshare.json" <<'JS'
const r = require(process.argv[2]).results
const [node, ul, nsx, ulFull, nsxFull] = r
const ms = (s) => (s * 1000).toFixed(1) + ' ms'
const cpu = (x) => x.user + x.system
const row = (name, x) => console.log(`${name.padEnd(34)} mean ${ms(x.mean)}  median ${ms(x.median)}  cpu ${ms(cpu(x))}`)
console.log('')
row('node -e 0', node)
row('unshare -r true', ul)
row('nsx unshare -r true', nsx)
row('unshare -rmuinpCTf --mount-proc', ulFull)
row('nsx unshare -rmuinpCTf --mount-proc', nsxFull)
console.log(`nsx unshare -r / node -e 0         mean ${(nsx.mean / node.mean).toFixed(2)}x  median ${(nsx.median / node.median).toFixed(2)}x  (target: <= 1.6x)`)
console.log(`nsx unshare -r / unshare -r        mean ${(nsx.mean / ul.mean).toFixed(1)}x`)
console.log(`full: nsx / unshare                mean ${(nsxFull.mean / ulFull.mean).toFixed(1)}x`)
console.log(`above node's start-up (-r)         median ${ms(nsx.median - node.median)}  cpu ${ms(cpu(nsx) - cpu(node))}`)
JS
