#!/usr/bin/env bash
# Part of bench/images.sh (PART=pull, build or all): registry pulls and builds against skopeo,
# podman and buildah in the same run. Needs root, hyperfine, docker-registry, skopeo, podman,
# buildah, umoci. SIZE_MB per layer (default 40), RUNS (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
PART=${PART:-all}
RUNS=${RUNS:-3}
SIZE_MB=${SIZE_MB:-40}
NSX="node $PWD/bin/nsx"
[ "$(id -u)" = 0 ] || { echo "bench/images.sh: needs root" >&2; exit 1; }
for c in hyperfine docker-registry skopeo podman buildah umoci; do command -v $c >/dev/null || { echo "bench/images.sh: needs $c" >&2; exit 1; }; done
[ -f dist/commands/pull.js ] || { echo "bench/images.sh: build first (npm run build)" >&2; exit 1; }

tmp=$(mktemp -d)
reg_pid=""
cleanup() {
  [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null && wait "$reg_pid" 2>/dev/null || true
  podman --root "$tmp/podman" --runroot "$tmp/podman-run" --storage-driver overlay rmi -a -f >/dev/null 2>&1 || true
  buildah --root "$tmp/buildah" --runroot "$tmp/buildah-run" rm -a >/dev/null 2>&1 || true
  buildah --root "$tmp/buildah" --runroot "$tmp/buildah-run" rmi -a -f >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
cat > registry.yml <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $tmp/registry}}
http: {addr: 127.0.0.1:$port}
YML
docker-registry serve registry.yml 2>/dev/null &
reg_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
REG=127.0.0.1:$port

# Five layers of real files from /usr, SIZE_MB each.
umoci init --layout oci >/dev/null
umoci new --image oci:big >/dev/null
find /usr -xdev -type f -size -4M -printf '%s %p\n' 2>/dev/null | sort -k2 > files.txt
for i in 1 2 3 4 5; do
  umoci unpack --image oci:big b >/dev/null
  awk -v lim=$((SIZE_MB * 1048576)) -v skip=$(((i - 1) * SIZE_MB * 1048576)) '{t += $1; if (t > skip && t <= skip + lim) print $2}' files.txt > list$i
  mkdir -p b/rootfs/l$i && tar -cf - -T list$i 2>/dev/null | tar -xf - -C b/rootfs/l$i
  umoci repack --image oci:big b >/dev/null
  rm -rf b
done
cp -a /usr/bin/busybox . 2>/dev/null || true
skopeo copy -q --dest-tls-verify=false oci:oci:big "docker://$REG/bench/big:1"
echo "image: 5 layers, $(du -sh oci/blobs | cut -f1) compressed"

report() {
  node - "$@" <<'JS'
const fs = require('fs')
for (const f of process.argv.slice(2)) {
  const r = JSON.parse(fs.readFileSync(f, 'utf8')).results
  for (const x of r) console.log(`${x.command.padEnd(36)} ${(x.mean * 1000).toFixed(0).padStart(7)} ms ±${(x.stddev * 1000).toFixed(0)}  ${(x.mean / r[0].mean).toFixed(2)}x ${r[0].command}`)
}
JS
}

if [ "$PART" = pull ] || [ "$PART" = all ]; then
  hyperfine -N --runs "$RUNS" --export-json pull.json \
    --prepare "rm -rf $tmp/store $tmp/ocidir $tmp/podman $tmp/podman-run" \
    -n "nsx pull" "env NSX_ROOT=$tmp/store $NSX pull -q $REG/bench/big:1" \
    -n "skopeo copy to an OCI dir" "skopeo copy -q --src-tls-verify=false docker://$REG/bench/big:1 oci:$tmp/ocidir:x" \
    -n "podman pull" "podman --root $tmp/podman --runroot $tmp/podman-run --storage-driver overlay pull -q --tls-verify=false $REG/bench/big:1"
  report pull.json
fi

if [ "$PART" = build ] || [ "$PART" = all ]; then
  # The base: the first layer only (busybox-static added), pushed as its own image.
  umoci init --layout base >/dev/null && umoci new --image base:b >/dev/null && umoci unpack --image base:b bb >/dev/null
  mkdir -p bb/rootfs/bin && cp /usr/bin/busybox bb/rootfs/bin/busybox && ln -s busybox bb/rootfs/bin/sh
  umoci repack --image base:b bb >/dev/null && rm -rf bb
  skopeo copy -q --dest-tls-verify=false oci:base:b "docker://$REG/bench/base:1"
  mkdir -p ctx/src && tar -cf - -T list1 2>/dev/null | head -c $((20 * 1048576)) | tar -xf - -C ctx/src 2>/dev/null || true
  cat > ctx/Dockerfile <<DF
FROM $REG/bench/base:1
RUN mkdir -p /work && for i in 1 2 3 4 5 6 7 8; do echo line \$i >> /work/log; done
COPY src /work/src
RUN cd /work && find src -type f | wc -l > count && cp -a src src2
ENV MODE=bench
CMD ["/bin/sh", "-c", "cat /work/count"]
DF
  env NSX_ROOT=$tmp/bstore $NSX pull -q "$REG/bench/base:1" >/dev/null
  B="buildah --root $tmp/buildah --runroot $tmp/buildah-run --storage-driver overlay"
  $B pull -q --tls-verify=false "$REG/bench/base:1" >/dev/null
  hyperfine -N --runs "$RUNS" --export-json cold.json \
    -n "nsx build (cold, --no-cache)" "env NSX_ROOT=$tmp/bstore $NSX build -q --no-cache -t b:1 $tmp/ctx" \
    -n "buildah bud (cold)" "$B bud -q --isolation chroot --tls-verify=false -t b:1 $tmp/ctx"
  env NSX_ROOT=$tmp/bstore $NSX build -q -t b:1 "$tmp/ctx" >/dev/null
  $B bud -q --layers --isolation chroot --tls-verify=false -t b:1 "$tmp/ctx" >/dev/null
  hyperfine -N --runs "$((RUNS * 3))" --warmup 1 --export-json warm.json \
    -n "nsx build (warm, all cached)" "env NSX_ROOT=$tmp/bstore $NSX build -q -t b:1 $tmp/ctx" \
    -n "buildah bud --layers (warm)" "$B bud -q --layers --isolation chroot --tls-verify=false -t b:1 $tmp/ctx" \
    -n "nsx --version (floor)" "$NSX --version"
  report cold.json warm.json
fi
