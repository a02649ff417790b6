#!/usr/bin/env bash
# The effect of --cpu-shares, which needs timing and so is no test: two containers spinning on
# the same CPU (--cpuset-cpus 0), one with --cpu-shares 1024 and one with 256, for DURATION
# (default 10). Prints the CPU time each got (from the cgroup2 tree's cpu.stat, which counts
# every cgroup on hybrid hosts too, or cpuacct.usage) and the ratio; the kernel's CFS should
# give about 4:1. Needs root and a build (npm run build); cleans up when interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=${DURATION:-10}
[ "$(id -u)" = 0 ] || { echo "bench/cgroups.sh: needs root" >&2; exit 1; }
[ -x native/build/nsx-exec ] || { echo "bench/cgroups.sh: build first (npm run build)" >&2; exit 1; }
[ -x /usr/bin/busybox ] || { echo "bench/cgroups.sh: needs /usr/bin/busybox (Debian package busybox-static)" >&2; exit 1; }

tmp=$(mktemp -d)
export NSX_ROOT=$tmp/store
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/layer/bin"
cp /usr/bin/busybox "$tmp/layer/bin/"
ln -s busybox "$tmp/layer/bin/sh"
for s in 1024 256; do
  node bin/nsx run --name "bench-shares-$s" --layer "$tmp/layer" --cpuset-cpus 0 --cpu-shares "$s" -- sh -c 'while :; do :; done' &
  pids+=($!)
done

usage_us() { # the container's CPU time in microseconds
  local d
  d=$(find /sys/fs/cgroup/unified /sys/fs/cgroup -maxdepth 6 -type d -name "nsx-bench-shares-$1-*" 2>/dev/null | while read -r x; do [ -f "$x/cpu.stat" ] && echo "$x" && break; done)
  if [ -n "$d" ]; then awk '$1 == "usage_usec" {print $2}' "$d/cpu.stat"; return; fi
  d=$(find /sys/fs/cgroup/cpuacct /sys/fs/cgroup/cpu,cpuacct -maxdepth 6 -type d -name "nsx-bench-shares-$1-*" 2>/dev/null | head -1)
  echo $(( $(cat "$d/cpuacct.usage") / 1000 ))
}

sleep 2 # both started and spinning
a0=$(usage_us 1024); b0=$(usage_us 256)
sleep "$SECONDS_RUN"
a1=$(usage_us 1024); b1=$(usage_us 256)
node -e '
const [a, b, s] = process.argv.slice(1).map(Number)
console.log(`cpu-shares 1024: ${(a / 1e6).toFixed(2)} s of CPU in ${s} s`)
console.log(`cpu-shares  256: ${(b / 1e6).toFixed(2)} s of CPU in ${s} s`)
console.log(`ratio: ${(a / b).toFixed(2)} : 1 (CFS: 4 : 1)`)
' $((a1 - a0)) $((b1 - b0)) "$SECONDS_RUN"
