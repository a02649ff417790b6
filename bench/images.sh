#!/usr/bin/env bash
# Layer extraction: nsx load against umoci unpack (the same OCI image, digests checked by
# both) and against plain GNU tar (no digest checks: the floor), in the same run, on a
# one-layer image built from SRC (default /usr/lib/python3.11: ~50 MB in thousands of files).
# Also the same layer as tar.zst: nsx load --layer against tar --zstd. Needs root, hyperfine,
# umoci and zstd. Every run starts from an empty store / directory.
#
# PART=pull|build (or all) instead: a 5-layer image of ~200 MB (files of /usr, gzip) served by a
# docker-registry on a free 127.0.0.1 port, pulled by nsx pull, skopeo copy to an OCI directory
# and podman pull (its own storage, overlay driver), each into an empty store; and a Dockerfile
# (FROM that image's first layer, RUN, COPY of a ~20 MB context, RUN) built by nsx build and
# buildah bud --isolation chroot, cold (no cache) and warm (everything cached: buildah --layers).
set -euo pipefail
cd "$(dirname "$0")/.."
PART=${PART:-load}
if [ "$PART" != load ]; then exec bash bench/images-registry.sh; fi
SRC=${SRC:-/usr/lib/python3.11}
RUNS=${RUNS:-5}
NSX="node $PWD/bin/nsx"
[ "$(id -u)" = 0 ] || { echo "bench/images.sh: needs root" >&2; exit 1; }
for c in hyperfine umoci zstd; do command -v $c >/dev/null || { echo "bench/images.sh: needs $c" >&2; exit 1; }; done
[ -f dist/commands/load.js ] || { echo "bench/images.sh: build first (npm run build)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
umoci init --layout oci >/dev/null
umoci new --image oci:bench >/dev/null
umoci unpack --image oci:bench b >/dev/null
mkdir -p b/rootfs/src && cp -a "$SRC/." b/rootfs/src/
umoci repack --image oci:bench b >/dev/null
rm -rf b
files=$(find "$SRC" | wc -l)
layer=$(ls -S oci/blobs/sha256 | head -1)
cp "oci/blobs/sha256/$layer" layer.tar.gz
gzip -dc layer.tar.gz > layer.tar
zstd -q layer.tar -o layer.tar.zst
echo "layer: $files entries, $(du -h layer.tar | cut -f1) uncompressed, $(du -h layer.tar.gz | cut -f1) gzip"

hyperfine -N --runs "$RUNS" --export-json gz.json \
  --prepare "sh -c 'rm -rf $tmp/store $tmp/bundle $tmp/x && mkdir $tmp/x'" \
  -n "nsx load (OCI, gzip)" "env NSX_ROOT=$tmp/store $NSX load $tmp/oci:bench" \
  -n "umoci unpack (OCI, gzip)" "umoci unpack --image $tmp/oci:bench $tmp/bundle" \
  -n "tar -xzf (no digest)" "tar -xzf $tmp/layer.tar.gz -C $tmp/x"
hyperfine -N --runs "$RUNS" --export-json zst.json \
  --prepare "sh -c 'rm -rf $tmp/store $tmp/x && mkdir $tmp/x'" \
  -n "nsx load --layer (zstd)" "env NSX_ROOT=$tmp/store $NSX load --layer $tmp/layer.tar.zst" \
  -n "tar --zstd -xf (no digest)" "tar --zstd -xf $tmp/layer.tar.zst -C $tmp/x"
node - gz.json zst.json <<'JS'
const fs = require('fs')
for (const f of process.argv.slice(2)) {
  const r = JSON.parse(fs.readFileSync(f, 'utf8')).results
  const base = r[0].mean
  for (const x of r) console.log(`${x.command.padEnd(28)} ${(x.mean * 1000).toFixed(0).padStart(6)} ms  ${(x.mean / base).toFixed(2)}x the time of ${r[0].command}`)
}
JS
