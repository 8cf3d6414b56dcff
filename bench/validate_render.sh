#!/usr/bin/env bash
# P5 benchmark: `polyops validate` and `polyops render --out` of a
# 7,000-phone site, several runs each, median wall time and peak RSS.
#
#     bench/validate_render.sh            # 7 runs of each
#     RUNS=15 bench/validate_render.sh
#     OUT=/dev/shm/polyops-bench bench/validate_render.sh   # render to tmpfs
#     POLYOPS_BIN=path/to/polyops bench/validate_render.sh  # that build, no cargo
#
# Each render writes to a fresh folder (nothing is deleted between runs, so
# one run's deletes never slow the next); all are removed at the end.
#
# Needs cargo, python3 and GNU time (/usr/bin/time; `apt-get install time`).
set -euo pipefail

RUNS=${RUNS:-7}
root=$(cd "$(dirname "$0")/.." && pwd)

if [ ! -x /usr/bin/time ]; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        apt-get install -y -qq time >/dev/null
    else
        echo "error: /usr/bin/time is missing; install GNU time (apt-get install time)" >&2
        exit 1
    fi
fi

# POLYOPS_BIN: the binary to measure (ftp_bench.sh passes the one it built,
# so that all of its sections measure the same build).
if [ -n "${POLYOPS_BIN:-}" ]; then
    bin=$POLYOPS_BIN
else
    cargo build --release --quiet --manifest-path "$root/Cargo.toml"
    bin="$root/target/release/polyops"
fi

work=$(mktemp -d)
out_root=${OUT:-$work/out}
mkdir -p "$out_root"
trap 'rm -rf "$work" "$out_root"' EXIT
python3 "$root/bench/gen_site.py" "$work"
cd "$work"

# One run: prints "<wall seconds> <peak RSS KiB>"; fails if polyops does.
measure() {
    local start end
    start=$(date +%s%N)
    /usr/bin/time -f "%M" -o rss.txt "$@" >stdout.txt 2>stderr.txt || {
        echo "error: $* failed:" >&2
        cat stderr.txt >&2
        exit 1
    }
    end=$(date +%s%N)
    awk -v ns=$((end - start)) -v kb="$(tail -n 1 rss.txt)" 'BEGIN { printf "%.4f %d\n", ns / 1e9, kb }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

run() {
    local label=$1
    shift
    : >results.txt
    for i in $(seq "$RUNS"); do
        measure "${@//@OUT@/$out_root/$i}" >>results.txt
    done
    local t_med t_min t_max rss_med
    t_med=$(cut -d' ' -f1 results.txt | median)
    t_min=$(cut -d' ' -f1 results.txt | sort -n | head -n 1)
    t_max=$(cut -d' ' -f1 results.txt | sort -n | tail -n 1)
    rss_med=$(cut -d' ' -f2 results.txt | median)
    printf '| %s | %.3f | %.3f | %.3f | %.1f |\n' "$label" "$t_med" "$t_min" "$t_max" \
        "$(awk -v kb="$rss_med" 'BEGIN { print kb / 1024 }')"
}

echo "site: $(grep -c '^  - mac:' sites/big.yaml) phones, $(grep -c '^  - number:' sites/big.yaml) extensions, $(wc -c <sites/big.yaml) bytes; $RUNS runs each"
echo
echo "| command | median wall (s) | min (s) | max (s) | median peak RSS (MB) |"
echo "|---|---|---|---|---|"
run "polyops validate" "$bin" validate
run "polyops --secrets secrets.yaml render --out DIR" "$bin" --secrets secrets.yaml render --out @OUT@
echo
echo "each render wrote $(ls "$out_root/1/big" | wc -l) files under $out_root ($(df -T "$out_root" | awk 'NR == 2 { print $2 }'))"
