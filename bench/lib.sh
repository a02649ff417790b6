# Shared set-up of the bench scripts (sourced, not run): checks, a temp dir, the processes that
# hold the load, and their removal on exit.
#   bench_init NAME BUILT_FILE [COMMAND PACKAGE]...  root, hyperfine, a build, and peer tools
#   holders+=($!)                                    a load process; --kill-child unshares take
#                                                    their pid namespace down when killed
#   mean LABEL INDEX                                 mean seconds of command INDEX in $tmp/LABEL.json
#   median LABEL INDEX                               its median
#   busybox_root DIR                                 a container root: busybox-static (sh, true,
#                                                    sleep) and root in /etc/passwd
#   runc_bundle DIR ROOT ARGS_JSON                   an OCI bundle for runc/crun of that root
#   finish_containers 'NAME...' [RUNTIME ID]...      the bench's nsx containers and peers' removed,
#                                                    the store swept (in a script's EXIT trap)
NSX="node bin/nsx"
# Never a bridge on the host's network from a benchmark: containers get --network none unless one asks.
export NSX_NETWORK=none
tmp=""
holders=()

bench_init() {
  local name=$1 built=$2
  shift 2
  [ "$(id -u)" = 0 ] || { echo "bench/$name: needs root" >&2; exit 1; }
  command -v hyperfine >/dev/null || { echo "bench/$name: needs hyperfine (Debian package hyperfine)" >&2; exit 1; }
  while [ $# -ge 2 ]; do
    command -v "$1" >/dev/null || { echo "bench/$name: needs $1 (Debian package $2)" >&2; exit 1; }
    shift 2
  done
  [ -f "$built" ] || { echo "bench/$name: build first (npm run build)" >&2; exit 1; }
  tmp=$(mktemp -d)
  trap bench_cleanup EXIT
}

bench_cleanup() {
  for p in "${holders[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  for p in "${holders[@]}"; do while kill -0 "$p" 2>/dev/null; do sleep 0.05; done; done
  rm -rf "$tmp"
}

mean() { node -e 'const r=require(process.argv[1]).results; console.log(r[Number(process.argv[2])].mean)' "$tmp/$1.json" "$2"; }
median() { node -e 'const r=require(process.argv[1]).results; console.log(r[Number(process.argv[2])].median)' "$tmp/$1.json" "$2"; }

nprocs() { ls /proc | grep -c '^[0-9]'; }

# add_flat_load GROUPS PER_GROUP: GROUPS pid+mnt+uts+ipc+net namespace groups of PER_GROUP sleepers
# each (held in $holders), and wait until they all exist.
add_flat_load() {
  local groups=$1 per=$2 want g
  want=$(($(nprocs) + groups * (per + 2)))
  for ((g = 0; g < groups; g++)); do
    unshare --fork --kill-child=SIGKILL --pid --mount --uts --ipc --net \
      sh -c "for i in \$(seq $per); do sleep 100000 & done; wait" &
    holders+=($!)
    disown $! # no "Killed" line from bash at cleanup
  done
  for _ in $(seq 200); do [ "$(nprocs)" -ge "$want" ] && break; sleep 0.05; done
}

busybox_root() {
  mkdir -p "$1/bin" "$1/etc" "$1/dev" "$1/proc" "$1/sys" "$1/tmp"
  cp "$(command -v busybox)" "$1/bin/busybox"
  for a in sh true sleep; do ln -s busybox "$1/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$1/etc/passwd"
}

runc_bundle() {
  mkdir -p "$1"
  (cd "$1" && runc spec)
  node -e '
const f = process.argv[1], c = JSON.parse(require("fs").readFileSync(f))
c.process.terminal = false
c.process.args = JSON.parse(process.argv[3])
delete c.process.rlimits
c.root.readonly = false
c.root.path = process.argv[2]
require("fs").writeFileSync(f, JSON.stringify(c))' "$1/config.json" "$2" "$3"
}

finish_containers() {
  # shellcheck disable=SC2086 # the names are words
  $NSX rm -f $1 >/dev/null 2>&1 || true
  shift
  while [ $# -ge 2 ]; do "$1" delete -f "$2" >/dev/null 2>&1 || true; shift 2; done
  $NSX gc >/dev/null 2>&1 || true
}
