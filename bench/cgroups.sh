#!/usr/bin/env bash
# Effects of limits that need timing, and so are no tests (PART=shares, io, or both by default):
#
# shares: two containers spinning on the same CPU (--cpuset-cpus 0), one with --cpu-shares 1024
#   and one with 256, for DURATION (default 10). Prints the CPU time each got (from the cgroup2
#   tree's cpu.stat, which counts every cgroup on hybrid hosts too, or cpuacct.usage) and the
#   ratio; the kernel's CFS should give about 4:1.
# io: a loop device the benchmark makes for itself (losetup on a file in its temp directory),
#   written raw with O_DIRECT (dd oflag=direct, SIZE MiB, default 32) from a container given it
#   with --device, once with --device-write-bps DEV:RATE (default 8mb) and once without; prints
#   each rate and the throttled one against RATE, which must be within TOLERANCE percent
#   (default 10) or the script fails. The loop device is detached afterwards.
#
# Needs root and a build (npm run build); cleans up when interrupted.
set -euo pipefail
export NSX_NETWORK=none # never a bridge on the host's network from a benchmark
cd "$(dirname "$0")/.."
SECONDS_RUN=${DURATION:-10}
PART=${PART:-all}
SIZE_MIB=${SIZE:-32}
RATE=${RATE:-8mb}
TOLERANCE=${TOLERANCE:-10}
[ "$(id -u)" = 0 ] || { echo "bench/cgroups.sh: needs root" >&2; exit 1; }
[ -x native/build/nsx-exec ] || { echo "bench/cgroups.sh: build first (npm run build)" >&2; exit 1; }
[ -x /usr/bin/busybox ] || { echo "bench/cgroups.sh: needs /usr/bin/busybox (Debian package busybox-static)" >&2; exit 1; }

tmp=$(mktemp -d)
export NSX_ROOT=$tmp/store
pids=()
loop=
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -z "$loop" ] || losetup -d "$loop" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/layer/bin"
cp /usr/bin/busybox "$tmp/layer/bin/"
for a in sh dd cat; do ln -s busybox "$tmp/layer/bin/$a"; done

if [ "$PART" = all ] || [ "$PART" = io ]; then
  command -v losetup >/dev/null || { echo "bench/cgroups.sh: needs losetup (Debian package mount)" >&2; exit 1; }
  truncate -s "$((SIZE_MIB * 2))M" "$tmp/disk.img"
  loop=$(losetup --find --show "$tmp/disk.img")
  # Seconds (from /proc/uptime, 10 ms steps) a raw O_DIRECT write of SIZE MiB takes in a container.
  write_seconds() { # nsx run flags...
    node bin/nsx run --rm --layer "$tmp/layer" --device "$loop" "$@" -- \
      sh -c "read a _ < /proc/uptime; dd if=/dev/zero of=$loop bs=1M count=$SIZE_MIB oflag=direct 2>/dev/null || exit 1; read b _ < /proc/uptime; echo \$a \$b" |
      awk '{printf "%.2f\n", $2 - $1}'
  }
  throttled=$(write_seconds --device-write-bps "$loop:$RATE")
  free=$(write_seconds)
  node -e '
const [size, throttled, free, rate, tolerance, dev] = process.argv.slice(1)
const units = {"": 1, b: 1, k: 1024, kb: 1024, m: 1 << 20, mb: 1 << 20, g: 1 << 30, gb: 1 << 30}
const m = /^(\d+(?:\.\d+)?)([a-z]*)$/.exec(rate.toLowerCase())
const limit = Number(m[1]) * units[m[2]]
const bytes = Number(size) * 1048576
const got = bytes / Number(throttled)
const mib = (v) => (v / 1048576).toFixed(2)
console.log(`--device-write-bps ${dev}:${rate}: ${size} MiB in ${throttled} s, ${mib(got)} MiB/s (limit ${mib(limit)} MiB/s)`)
console.log(`no throttle:                   ${size} MiB in ${free} s, ${Number(free) > 0 ? mib(bytes / Number(free)) : "more than " + mib(bytes / 0.01)} MiB/s`)
const ratio = got / limit
console.log(`measured / limit: ${ratio.toFixed(3)} (tolerance ${tolerance}%)`)
if (Math.abs(ratio - 1) * 100 > Number(tolerance)) { console.error("bench/cgroups.sh: the throttle did not hold"); process.exit(1) }
' "$SIZE_MIB" "$throttled" "$free" "$RATE" "$TOLERANCE" "$loop"
  losetup -d "$loop"
  loop=
fi
[ "$PART" = all ] || [ "$PART" = shares ] || exit 0

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
