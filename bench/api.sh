#!/usr/bin/env bash
# The Engine API's own cost (nsx system service), in one hyperfine run per comparison:
#   run:  docker run --rm busybox true through the service (the docker 20.10 CLI: create, attach,
#         wait, start, over the unix socket) against nsx run --rm busybox true. Target: the API
#         adds under 15 ms.
#   ps:   docker ps with 50 running containers against nsx ps. Target: within 1.2x.
#   idle: the service's CPU time and RSS over IDLE seconds (default 60) with the 50 containers
#         running and nobody connected. Target: 0.0% CPU, RSS under 60 MB.
# The docker CLI is the client binary of Debian's docker.io, unpacked as the tests do it
# (/var/cache/nsx-test/docker-cli); dockerd is never installed or started.
# Needs root, hyperfine, umoci, skopeo, busybox (Debian packages of the same names, busybox-static).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-20}
IDLE=${IDLE:-60}
bench_init api.sh dist/src/api/server.js umoci umoci skopeo skopeo busybox busybox-static
export NSX_ROOT="$tmp/store"
# No bridge on the host: the containers get a network namespace with lo only.
export NSX_NETWORK=none
cache=${NSX_TEST_CACHE:-/var/cache/nsx-test}/docker-cli
docker=$cache/root/usr/bin/docker
if [ ! -x "$docker" ]; then
  mkdir -p "$cache"
  (cd "$cache" && { apt-get download -q docker.io >/dev/null 2>&1 || { apt-get update -qq && apt-get download -q docker.io >/dev/null; }; } && dpkg-deb -x docker.io_*.deb root && rm -f docker.io_*.deb)
fi
finish() {
  $NSX ps -q 2>/dev/null | xargs -r $NSX rm -f >/dev/null 2>&1 || true
  $NSX gc >/dev/null 2>&1 || true
  bench_cleanup
}
trap finish EXIT

mkdir -p "$tmp/img"
archive=$(npx tsx -e 'import("./test/helpers/busybox-image.ts").then((m) => console.log(m.buildBusyboxArchive(process.argv[1])))' "$tmp/img")
$NSX load -i "$archive" >/dev/null
$NSX system service "unix://$tmp/docker.sock" 2>"$tmp/service.log" &
service=$!
holders+=($service)
for _ in $(seq 100); do grep -q listening "$tmp/service.log" 2>/dev/null && break; sleep 0.1; done
export DOCKER_HOST="unix://$tmp/docker.sock" DOCKER_CONFIG="$tmp/docker-config"

hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$tmp/run.json" \
  -n 'docker run --rm (API)' "$docker run --rm busybox true" \
  -n 'nsx run --rm' "$NSX run --rm busybox true"
d=$(mean run 0); n=$(mean run 1)
echo "run: the API adds $(node -e "console.log(((process.argv[1] - process.argv[2]) * 1000).toFixed(1))" "$d" "$n") ms (target: under 15 ms)"

for i in $(seq 50); do $NSX run -d --name "bench-$i" busybox sleep 100000 >/dev/null; done
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$tmp/ps.json" \
  -n 'docker ps (API, 50 containers)' "$docker ps" \
  -n 'nsx ps (50 containers)' "$NSX ps"
d=$(mean ps 0); n=$(mean ps 1)
echo "ps: docker ps / nsx ps = $(node -e "console.log((process.argv[1] / process.argv[2]).toFixed(2))" "$d" "$n")x (target: within 1.2x)"

ticks() { awk '{print $14 + $15}' "/proc/$service/stat"; }
t0=$(ticks)
sleep "$IDLE"
t1=$(ticks)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$service/status")
echo "idle: $(node -e "console.log(((process.argv[1] - process.argv[2]) / process.argv[3]).toFixed(2))" "$t1" "$t0" "$IDLE")% CPU over $IDLE s ($((t1 - t0)) ticks), RSS $((rss / 1024)) MB (targets: 0.0%, under 60 MB)"
