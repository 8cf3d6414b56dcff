#!/usr/bin/env bash
# The FTP engine against the bare protocol: polyops beside a bare Python
# client (bench/ftp_floor.py) on one vsftpd, side by side in one run.
#
#     sudo bench/engine_bench.sh                 # ~2 minutes on 2 cores
#     RUNS=9 sudo bench/engine_bench.sh
#     EXTRA_BINS="old=/tmp/polyops-old" sudo bench/engine_bench.sh
#
# What it does (as root, on a fresh Debian/Ubuntu machine):
#   - installs vsftpd and jq (apt-get) when missing; builds polyops
#     (cargo build --release) unless POLYOPS_BIN names a binary;
#   - starts a vsftpd of its own on 127.0.0.1 (a free control port, passive
#     ports ENGINE_PASV_BASE.., default 45000-45999, clear of
#     .ci/ftp-servers.sh's and the other benches' ranges), for a system user
#     of its own (ENGINE_USER, default plcmengine, its password a SHA-512
#     crypt hash), its FTP root on tmpfs; it never touches another server;
#   - generates the 1,000-phone site of bench/gen_ftp_site.py (2,001 files),
#     applies it once to the folder `noop`, and renders it locally;
#   - measures, RUNS (7) times, every tool once a run in turn:
#       noop   the content-verified no-op `polyops plan --detailed-exitcode`
#              of `noop` (vsftpd has no hash command: every file is
#              downloaded) against ftp_floor.py RETR of every file over 2
#              sessions;
#       apply  a first `polyops apply` into the emptied folder `fresh`
#              against ftp_floor.py STOR to a temporary name + RNFR/RNTO
#              of every file over 4 sessions (each upload is compared with
#              the rendered tree afterwards);
#       counts one no-op plan and one first apply of each tool under
#              /usr/bin/time (CPU seconds, context switches) and under
#              strace -f -c (system calls, threads started: counts that
#              hold on a busy machine), and through bench/ftp_proxy.py
#              without delay (sessions, commands, rounds, data
#              connections; polyops with its near defaults pinned, as the
#              proxy's relay could make the server look far).
#     With EXTRA_BINS ("label=path ..."), those polyops binaries are
#     measured too, in the same turns (an A/B of two builds).
#   - prints the medians and ratios and writes them as Markdown to REPORT
#     (default target/engine_bench.md).
#
# Times are wall seconds around each whole process ($EPOCHREALTIME), the
# floor's own start-up included; the floor's time inside Python (from its
# first connect to its last QUIT) is kept beside it. CPU seconds of
# vsftpd (listener and the sessions it reaped) and of the tool are kept
# too. Only 127.0.0.1 is contacted.
#
# Environment: RUNS (7), SECTIONS ("noop apply counts"), PHONES (1000),
# PAUSE (0.3 s between commands), ENGINE_USER, ENGINE_PASV_BASE,
# POLYOPS_BIN, EXTRA_BINS, REPORT, KEEP=1 (keep the work folder), BENCH_DIR
# (parent of the work folder; default /dev/shm).
set -euo pipefail
export LC_ALL=C

RUNS=${RUNS:-7}
SECTIONS=${SECTIONS:-noop apply counts}
PHONES=${PHONES:-1000}
PAUSE=${PAUSE:-0.3}
ENGINE_USER=${ENGINE_USER:-plcmengine}
PASV_LO=${ENGINE_PASV_BASE:-45000}
PASV_HI=$((PASV_LO + 999))
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPORT=${REPORT:-$ROOT/target/engine_bench.md}
T_START=$EPOCHREALTIME
BENCH=engine_bench
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

require_root "vsftpd needs it"

# ---------------------------------------------------------------- install

apt_install vsftpd jq python3 procps openssl strace time

build_polyops
declare -A BINS=([polyops]=$BIN)
TOOLS=(polyops)
for pair in ${EXTRA_BINS:-}; do
    [[ $pair == *=* && -x ${pair#*=} ]] || die "EXTRA_BINS: '$pair' is not label=executable"
    BINS[${pair%%=*}]=${pair#*=}
    TOOLS+=("${pair%%=*}")
done

# ---------------------------------------------------------------- work folder

make_work polyops-engine
mkdir -p "$WORK/logs" "$WORK/root/noop" "$WORK/root/fresh" "$WORK/vsftpd" "$WORK/sites"
: >"$WORK/results.tsv"
: >"$WORK/counts.jsonl"
: >"$WORK/profile.jsonl"
PIDS=()
cleanup() { stop_own $? "$ENGINE_USER"; }
trap cleanup EXIT

# CPU seconds of this shell's reaped children (bash's `times`, 2nd line),
# into CHILDREN_CPU: `times` must run in this shell, not in a $(...).
children_cpu() {
    times >"$WORK/times"
    CHILDREN_CPU=$(awk 'NR == 2 {
        split($1, u, /[ms]/); split($2, s, /[ms]/)
        printf "%.3f\n", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$WORK/times")
}

# ---------------------------------------------------------------- the server

start_own_vsftpd "$ENGINE_USER" "$PASV_LO" "$PASV_HI"

PROXY_PORT=$(free_port)
CTL_PORT=$(free_port)
python3 "$ROOT/bench/ftp_proxy.py" --listen "$PROXY_PORT" --upstream "$FTP_PORT" --control "$CTL_PORT" \
    --delay-ms 0 2>"$WORK/logs/proxy.log" &
PIDS+=($!)
wait_for_ports "$CTL_PORT" "$PROXY_PORT"

# ---------------------------------------------------------------- the site

export POLYOPS_FTP_PASSWORD=$PASSWORD
for n in $(seq 1000 $((1000 + PHONES - 1))); do
    export "EXT_${n}_PASSWORD=pw-$n-secret"
done
site() { # KEY PORT FOLDER
    python3 "$ROOT/bench/gen_ftp_site.py" "$WORK/sites/$1" "ftp://127.0.0.1:$2/$3/" "$PHONES" "$ENGINE_USER"
}
site noop "$FTP_PORT" noop
site fresh "$FTP_PORT" fresh
site count-noop "$PROXY_PORT" noop
site count-fresh "$PROXY_PORT" fresh
"$BIN" --sites "$WORK/sites/noop" render --out "$WORK/render" lab >/dev/null
RENDERED=$WORK/render/lab
NFILES=$(find "$RENDERED" -type f | wc -l)
say "site: $PHONES phones, $NFILES files, $(du -sb "$RENDERED" | cut -f1) bytes"

empty_folder() { find "$WORK/root/$1" -mindepth 1 -delete; }

check_upload() { # FOLDER WHAT
    if ! diff -rq -x .polyops-state.json "$RENDERED" "$WORK/root/$1" >"$WORK/logs/diff.txt" 2>&1; then
        say "$2: $1 differs from the rendered tree:"
        head -n 5 "$WORK/logs/diff.txt" >&2
        exit 1
    fi
}

pol_plan() { "${BINS[$1]}" --sites "$WORK/sites/$2" -v plan --detailed-exitcode lab; } # exit 0: no-op
# The folders hold what polyops renders, not the firmware the boot check
# looks for (builds from before the boot check have no such option).
incomplete() { # BINARY
    "$1" apply --help 2>/dev/null | grep -q -- --allow-incomplete && echo --allow-incomplete
    return 0
}
pol_apply() { "${BINS[$1]}" --sites "$WORK/sites/$2" -v apply --auto-approve $(incomplete "${BINS[$1]}") lab; }
floor() { # FOLDER MODE CONNECTIONS
    python3 "$ROOT/bench/ftp_floor.py" --user "$ENGINE_USER" "$FTP_PORT" "$PASSWORD" "$1" "$RENDERED" "$2" "$3"
}

say "applying the site once to noop (setup)"
pol_apply polyops noop >"$WORK/logs/setup.out" 2>"$WORK/logs/setup.err" || die "setup apply failed: $WORK/logs/setup.err"
check_upload noop "setup apply"

# timed SCENARIO TOOL RUN CMD...: run CMD once; record wall, vsftpd CPU and
# the tool's CPU; the floor's own total_s when it prints one.
timed() {
    local scen=$1 tool=$2 run=$3
    shift 3
    local log="$WORK/logs/$scen.${tool// /_}.$run" t0 t1 rc=0 us v0 v1 k0 k1 inner
    sleep "$PAUSE"
    v0=$(cpu_of "$VSFTPD_PID")
    children_cpu
    k0=$CHILDREN_CPU
    t0=$EPOCHREALTIME
    "$@" >"$log.out" 2>"$log.err" || rc=$?
    t1=$EPOCHREALTIME
    # vsftpd ends a session with "500 OOPS: vsf_sysutil_bind" when the
    # passive port it drew is taken, here by the local port of some other
    # connection of the machine (the passive range lies in Linux's
    # ephemeral range): the bare client does not retry, so the run is
    # taken again, once, and the log says so.
    if ((rc != 0)) && grep -q 'vsf_sysutil_bind' "$log.err" && [[ -z ${RETAKEN:-} ]]; then
        say "$scen / $tool run $run: the server ran out of passive ports; taking the run again"
        [[ $scen == first-apply ]] && empty_folder fresh
        RETAKEN=1 timed "$scen" "$tool" "$run" "$@"
        return
    fi
    children_cpu
    k1=$CHILDREN_CPU
    sleep 0.2 # vsftpd counts a session's CPU once it has reaped it
    v1=$(cpu_of "$VSFTPD_PID")
    ((rc == 0)) || {
        say "$scen / $tool run $run failed (exit $rc):"
        tail -n 5 "$log.err" >&2
        exit 1
    }
    us=$((${t1/./} - ${t0/./}))
    inner=$(jq -r '.total_s // empty' "$log.out" 2>/dev/null || true)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scen" "$tool" "$run" "$us" \
        "$(awk -v a="$v0" -v b="$v1" 'BEGIN { printf "%.3f", b - a }')" \
        "$(awk -v a="$k0" -v b="$k1" 'BEGIN { printf "%.3f", b - a }')" "${inner:-}" >>"$WORK/results.tsv"
    printf '  %-12s %-28s run %d: %d.%03d s%s\n' "$scen" "$tool" "$run" $((us / 1000000)) $((us % 1000000 / 1000)) \
        "${inner:+ (inside python: $inner s)}" >&2
}

section_noop() {
    local i t
    for i in $(seq "$RUNS"); do
        for t in "${TOOLS[@]}"; do
            timed noop-plan "$t" "$i" pol_plan "$t" noop
        done
        timed noop-plan "ftplib RETR, 2 sessions" "$i" floor noop retr 2
    done
}

section_apply() {
    local i t
    for i in $(seq "$RUNS"); do
        for t in "${TOOLS[@]}"; do
            empty_folder fresh
            timed first-apply "$t" "$i" pol_apply "$t" fresh
            check_upload fresh "$t apply"
        done
        empty_folder fresh
        timed first-apply "ftplib STOR+rename, 4 sessions" "$i" floor fresh stor 4
        check_upload fresh "ftplib STOR+rename"
    done
}

# One run of CMD under /usr/bin/time (CPU, context switches) and one under
# strace -f -c (system calls, threads started), saved as one JSON line.
profiled() { # SCENARIO TOOL BINARY ARGS...
    local scen=$1 tool=$2 log="$WORK/logs/profile.$1.${2// /_}"
    shift 2
    [[ $scen == first-apply ]] && empty_folder fresh
    /usr/bin/time -o "$log.time" -f '%U %S %w %c' "$@" >/dev/null 2>"$log.err" || die "$tool: profiled $scen failed"
    [[ $scen == first-apply ]] && empty_folder fresh
    strace -f -c -o "$log.strace" "$@" >/dev/null 2>>"$log.err" || die "$tool: traced $scen failed"
    awk -v scen="$scen" -v tool="$tool" -v t="$(cat "$log.time")" '
        # Columns: % time, seconds, usecs/call, calls, [errors,] name.
        $NF == "total" { total = $4 }
        $NF == "clone" || $NF == "clone3" { threads += $4 }
        $NF == "futex" { futex = $4 }
        $NF == "connect" { connects = $4 }
        END {
            split(t, a, " ")
            printf "{\"scenario\": \"%s\", \"tool\": \"%s\", \"syscalls\": %d, \"threads\": %d, \"futex\": %d, \"connects\": %d, \"user_s\": %s, \"sys_s\": %s, \"voluntary_cs\": %d, \"involuntary_cs\": %d}\n",
                scen, tool, total, threads, futex, connects, a[1], a[2], a[3], a[4]
        }' "$log.strace" >>"$WORK/profile.jsonl"
}

# Commands, rounds and sessions through the counting proxy. Its relay adds
# a little latency, which could make polyops think the server far (16
# sessions): the near defaults are pinned for these runs.
proxied() { # SCENARIO TOOL CMD...
    local scen=$1 tool=$2
    shift 2
    [[ $scen == first-apply ]] && empty_folder fresh
    proxy_cmd "$CTL_PORT" reset >/dev/null
    "$@" >/dev/null 2>&1 || die "$tool: counted $scen failed"
    sleep 0.3
    jq -c --arg scen "$scen" --arg tool "$tool" '{scenario: $scen, tool: $tool, stats: .}' \
        <<<"$(proxy_cmd "$CTL_PORT" stats)" >>"$WORK/counts.jsonl"
    [[ $scen == first-apply ]] && check_upload fresh "$tool through the proxy"
    return 0
}

section_counts() {
    local t b
    for t in "${TOOLS[@]}"; do
        b=${BINS[$t]}
        profiled noop-plan "$t" "$b" --sites "$WORK/sites/noop" plan --detailed-exitcode lab
        profiled first-apply "$t" "$b" --sites "$WORK/sites/fresh" apply --auto-approve $(incomplete "$b") lab
        check_upload fresh "$t apply"
        proxied noop-plan "$t --connections 2" "$b" --sites "$WORK/sites/count-noop" plan --detailed-exitcode --connections 2 lab
        proxied first-apply "$t --connections 4" "$b" --sites "$WORK/sites/count-fresh" apply --auto-approve $(incomplete "$b") --connections 4 lab
    done
    proxied noop-plan "ftplib RETR, 2 sessions" python3 "$ROOT/bench/ftp_floor.py" --user "$ENGINE_USER" "$PROXY_PORT" "$PASSWORD" noop "$RENDERED" retr 2
    proxied first-apply "ftplib STOR+rename, 4 sessions" python3 "$ROOT/bench/ftp_floor.py" --user "$ENGINE_USER" "$PROXY_PORT" "$PASSWORD" fresh "$RENDERED" stor 4
}

for section in $SECTIONS; do
    declare -F "section_$section" >/dev/null || die "unknown section $section (SECTIONS: noop apply counts)"
    say "== $section"
    "section_$section"
done

# ---------------------------------------------------------------- report

jq -n \
    --arg runs "$RUNS" --arg files "$NFILES" --arg pause "$PAUSE" \
    --arg nproc "$(nproc)" \
    --arg cpu "$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
    --arg kernel "$(uname -r)" \
    --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
    --arg polyops "$("$BIN" --version)" \
    --arg revision "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src Cargo.toml Cargo.lock 2>/dev/null || echo ' + local changes')" \
    --arg extra "${EXTRA_BINS:-}" \
    --arg vsftpd "$(dpkg-query -W -f='${Version}' vsftpd 2>/dev/null)" \
    --arg python "$(python3 --version | cut -d' ' -f2)" \
    --arg seconds "$(((${EPOCHREALTIME/./} - ${T_START/./}) / 1000000))" \
    '$ARGS.named' >"$WORK/meta.json"
mkdir -p "$(dirname "$REPORT")"
python3 "$ROOT/bench/engine_report.py" "$WORK" "$REPORT"
say "Markdown report: $REPORT"
