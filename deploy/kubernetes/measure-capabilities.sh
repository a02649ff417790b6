#!/bin/sh
# Which capabilities `nsx audit` needs, measured: the same audit as root with every
# capability, then with the bounding set cut down (a uid-0 process gets its bounding set as
# its permitted and effective sets at exec, as a container with `drop: [ALL]` and `add: [...]`
# does). For each set: workloads seen, findings missing against the full run (on workloads
# both runs saw), and the checks it could not make, by rule. Run as root:
#   deploy/kubernetes/measure-capabilities.sh [nsx audit targets...]
set -eu
NSX=${NSX:-$(dirname "$0")/../../bin/nsx}
[ "$(id -u)" = 0 ] || { echo "measure-capabilities.sh: run as root" >&2; exit 2; }
command -v setpriv >/dev/null || { echo "measure-capabilities.sh: needs setpriv (util-linux)" >&2; exit 2; }
out=$(mktemp -d "${TMPDIR:-/tmp}/nsx-caps-XXXXXX")
trap 'rm -rf "$out"' EXIT

audit() { # $1: bounding-set spec, the rest: targets
  caps=$1; shift
  setpriv --bounding-set "$caps" --inh-caps -all -- "$NSX" audit --format json "$@" 2>/dev/null
}

audit +all "$@" > "$out/full.json"
for caps in -all -all,+sys_ptrace -all,+sys_ptrace,+dac_read_search -all,+sys_ptrace,+net_admin -all,+sys_ptrace,+bpf -all,+sys_ptrace,+sys_admin -all,+sys_ptrace,+sys_admin,+dac_read_search; do
  audit "$caps" "$@" > "$out/cut.json" || true
  python3 - "$caps" "$out/full.json" "$out/cut.json" <<'PY'
import collections, json, sys
caps, full, cut = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
keys = {w['key'] for w in full['workloads']} & {w['key'] for w in cut['workloads']}
have = lambda r: {(f['workload'], f['rule']) for f in r['findings'] if f['workload'] in keys}
missing = collections.Counter(rule for _, rule in have(full) - have(cut))
unchecked = collections.Counter(u['rule'] for u in cut['unchecked'])
why = sorted({u['why'].split(':')[0] for u in cut['unchecked']})
print(f"{caps}: {len(cut['workloads'])} workloads ({len(full['workloads'])} with all), "
      f"{sum(missing.values())} findings missing, {len(cut['unchecked'])} unchecked")
for rule, n in sorted(unchecked.items()): print(f"    unchecked {rule} x{n}")
for rule, n in sorted(missing.items()): print(f"    missing {rule} x{n}")
for w in why: print(f"    why: {w}")
PY
done
