#!/usr/bin/env bash
# P1-P5 benchmarks: polyops's FTP engine against lftp and rclone, side by
# side in one run, same servers, same files; and validate + render of a
# 7,000-phone site.
#
#     sudo bench/ftp_bench.sh                  # ~7 minutes on 2 cores
#     RUNS=7 DELAY_RUNS=5 sudo bench/ftp_bench.sh
#
# What it does (as root, on a fresh Debian/Ubuntu machine):
#   - installs lftp and rclone (apt-get) when missing; .ci/ftp-servers.sh
#     installs vsftpd and proftpd; builds polyops (cargo build --release);
#   - waits until no test suite runs (pgrep "cargo test|.ci/run|ftp_scenarios"):
#     they share the CPU and .ci/ftp-servers.sh resets the vsftpd users'
#     passwords, so measuring beside them gives wrong numbers or failures;
#   - starts vsftpd and proftpd (mod_digest) on 127.0.0.1 with
#     .ci/ftp-servers.sh (stopped again on exit), and bench/ftp_proxy.py:
#     two proxies that answer every FTP command DELAY_MS (10) late, in front
#     of vsftpd and of proftpd, and two that only count commands;
#   - generates a 1,000-phone site (bench/gen_ftp_site.py: 2,001 files) and
#     renders it with `polyops render --out`, the local tree lftp and rclone
#     upload;
#   - measures, each RUNS times (rclone fewer), tools interleaved run by run:
#       P1/P1b  no-op `polyops plan` vs `lftp mirror -R --dry-run --parallel=8`
#               (vsftpd, proftpd), on a folder polyops applied once
#       P2      first `polyops apply` vs `lftp mirror -R --parallel=8` vs
#               `rclone sync --transfers 8` into an empty folder
#       P3      apply and no-op plan through the 10 ms proxy (DELAY_RUNS times)
#       P4      data connections (PASV/EPSV) and RETR/HASH commands of a no-op
#               plan, counted by the proxies, next to polyops -v's own count
#       sweep   polyops --connections 1, 2, 4, 8 (SWEEP_RUNS times)
#       floor   what listing, hashing and reading the files costs a bare
#               Python client (bench/ftp_floor.py), SWEEP_RUNS times
#       P5      `polyops validate` and `render --out` of a 7,000-phone site
#               (bench/validate_render.sh, P5_RUNS times), rendering to
#               tmpfs and to the disk under BENCH_DISK_DIR (default /var/tmp)
#   - prints a results table and writes it as Markdown to REPORT
#     (default target/ftp_bench.md).
#
# Wall time is taken around each command ($EPOCHREALTIME); every command's
# exit status is checked and every upload's result compared with the
# rendered tree. Each measured command starts PAUSE (0.6) s after the last
# one ended: proftpd's master process naps up to 0.4 s after a session ends
# before it accepts the next one, which would otherwise land on whichever
# tool comes next. Only 127.0.0.1 is ever contacted.
#
# Environment: SECTIONS (default, all of them: "p1 p2 p4 floor sweep p3 p5"),
# P5_RUNS (11), BENCH_DISK_DIR (/var/tmp),
# RUNS (5), DELAY_RUNS (3), SWEEP_RUNS (3), RCLONE_RUNS (3 on
# vsftpd), RCLONE_PROFTPD_RUNS (1: ~40 s each), PHONES (1000),
# DELAY_MS (10), PAUSE (0.6), REPORT, KEEP=1 (keep the work folder),
# BENCH_DIR (parent of the work folder; default /dev/shm: the servers' files
# live on tmpfs, so the disk does not set the numbers), NO_WAIT=1 (do not wait
# for the test suite), BENCH_FTP_PORT (2300), BENCH_PASV_BASE (54000: its servers take 54000-57999).
set -euo pipefail
export LC_ALL=C

RUNS=${RUNS:-5}
DELAY_RUNS=${DELAY_RUNS:-3}
SWEEP_RUNS=${SWEEP_RUNS:-3}
PHONES=${PHONES:-1000}
DELAY_MS=${DELAY_MS:-10}
declare -A RCLONE_N=([vsftpd]=${RCLONE_RUNS:-3} [proftpd]=${RCLONE_PROFTPD_RUNS:-1})
PAUSE=${PAUSE:-0.6}
P5_RUNS=${P5_RUNS:-11}
SECTIONS=${SECTIONS:-p1 p2 p4 floor sweep p3 p5}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPORT=${REPORT:-$ROOT/target/ftp_bench.md}
T_START=$EPOCHREALTIME
BENCH=ftp_bench
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

require_root "the FTP servers need it"

# ---------------------------------------------------------------- install

apt_install lftp rclone jq python3 procps
POLYOPS_BIN='' build_polyops

# ---------------------------------------------------------------- work folder

make_work polyops-ftpbench
mkdir -p "$WORK/logs" "$WORK/sites" "$WORK/counts"
: >"$WORK/results.tsv"
: >"$WORK/failures.tsv"
SERVERS_DIR=$WORK/servers
PROXY_PIDS=()
SERVERS_STARTED=
cleanup() {
    local rc=$? pid
    for pid in "${PROXY_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    if [[ -n $SERVERS_STARTED ]]; then
        "$ROOT/.ci/ftp-servers.sh" stop "$SERVERS_DIR" >/dev/null 2>&1 || true
    fi
    keep_or_remove_work "$rc"
}
trap cleanup EXIT

# ---------------------------------------------------------------- helpers

srv() { jq -r --arg n "$1" --arg k "$2" '.[] | select(.name == $n) | .[$k]' "$SERVERS_DIR/servers.json"; }

declare -A PORT PASS ROOTDIR OBSCURED
load_servers() {
    local s
    for s in vsftpd proftpd; do
        PORT[$s]=$(srv "$s" url | sed -E 's#^ftp://127\.0\.0\.1:([0-9]+)/$#\1#')
        [[ ${PORT[$s]} =~ ^[0-9]+$ ]] || die "unexpected $s url in servers.json"
        PASS[$s]=$(srv "$s" password)
        ROOTDIR[$s]=$(srv "$s" root)
        OBSCURED[$s]=$(rclone obscure "${PASS[$s]}")
    done
}

start_servers() {
    local old_v=${PORT[vsftpd]:-} old_p=${PORT[proftpd]:-}
    POLYOPS_FTP_PORT=${BENCH_FTP_PORT:-2300} POLYOPS_FTP_PASV_BASE=${BENCH_PASV_BASE:-54000} \
        "$ROOT/.ci/ftp-servers.sh" start "$SERVERS_DIR" 2>"$WORK/logs/ftp-servers.log" ||
        {
            cat "$WORK/logs/ftp-servers.log" >&2
            die "the FTP servers did not start"
        }
    SERVERS_STARTED=1
    load_servers
    if [[ -n $old_v && ($old_v != "${PORT[vsftpd]}" || $old_p != "${PORT[proftpd]}") ]]; then
        die "the FTP servers came back on other ports; rerun the benchmark"
    fi
}

# Can the bench user still log in? (Another .ci/ftp-servers.sh start resets
# the system users' passwords vsftpd checks.)
login_ok() { can_log_in "${PORT[$1]}" PlcmSpIp "${PASS[$1]}"; }

RESTARTS=0
ensure_servers() {
    wait_idle
    if login_ok vsftpd && login_ok proftpd; then
        return 0
    fi
    say "the bench user cannot log in any more (another .ci/ftp-servers.sh start reset the passwords): restarting the servers"
    RESTARTS=$((RESTARTS + 1))
    start_servers
    login_ok vsftpd && login_ok proftpd || die "cannot log in even after a restart"
}

# A folder below server S's FTP root, owned like the root (as if uploaded).
make_folder() {
    local dir=${ROOTDIR[$1]}/$2
    mkdir -p "$dir"
    chown --reference="${ROOTDIR[$1]}" "$dir"
}

empty_folder() {
    find "${ROOTDIR[$1]}/$2" -mindepth 1 -delete
}

site() { # KEY URL
    python3 "$ROOT/bench/gen_ftp_site.py" "$WORK/sites/$1" "$2" "$PHONES"
}

pause() { sleep "$PAUSE"; }

# timed SECTION SCENARIO TOOL RUN CMD...: run CMD once, record its wall time.
# Fails (ending the section) when CMD fails.
timed() {
    local section=$1 scen=$2 tool=$3 run=$4
    shift 4
    local log="$WORK/logs/$scen.$tool.$run" t0 t1 rc=0 us
    LAST_FAILED=
    pause
    t0=$EPOCHREALTIME
    "$@" >"$log.out" 2>"$log.err" || rc=$?
    t1=$EPOCHREALTIME
    if ((rc != 0)); then
        say "$scen / $tool run $run failed (exit $rc); last lines of $log.err:"
        tail -n 5 "$log.err" | sed -E 's#//[^@/]*@#//***@#g' >&2
        # A refused login means someone reset the passwords: retry the section.
        if [[ -n ${ALLOW_FAIL:-} ]] && ! grep -q 'Login incorrect' "$log.err"; then
            printf '%s\t%s\t%s\t%s\t%s\n' "$section" "$scen" "$tool" "$run" \
                "$(grep -v '^lab: \(created\|updated\|deleted\) ' "$log.err" | tail -n 1 | sed -E 's#//[^@/]*@#//***@#g')" \
                >>"$WORK/failures.$section.tsv"
            LAST_FAILED=1
            return 0
        fi
        exit 1
    fi
    us=$((${t1/./} - ${t0/./}))
    printf '%s\t%s\t%s\t%s\t%s\n' "$section" "$scen" "$tool" "$run" "$us" >>"$WORK/results.$section.tsv"
    printf '  %-34s %-30s run %d: %3d.%03d s\n' "$scen" "$tool" "$run" $((us / 1000000)) $((us % 1000000 / 1000)) >&2
}

# polyops SITEKEY SERVER [ARGS...]: polyops on one site, -v always.
polyops() {
    local key=$1 s=$2
    shift 2
    POLYOPS_FTP_PASSWORD=${PASS[$s]} "$BIN" --sites "$WORK/sites/$key" -v "$@"
}
pol_plan() { polyops "$1" "$2" "${@:3}" plan --detailed-exitcode lab; } # exit 0: nothing to do
# The folders hold what polyops renders (what lftp and rclone mirror too),
# not the firmware package the boot check looks for.
pol_apply() { polyops "$1" "$2" "${@:3}" apply --auto-approve --allow-incomplete lab; }

# lftp_mirror SERVER PORT LOCAL REMOTE [--dry-run]
lftp_mirror() {
    local s=$1 port=$2 local_dir=$3 remote=$4 dry=${5:-}
    lftp -u "PlcmSpIp,${PASS[$s]}" \
        -e "set cmd:fail-exit yes; mirror -R ${dry:+$dry }--parallel=8 $local_dir $remote; quit" \
        "ftp://127.0.0.1:$port"
}

# rclone_sync SERVER PORT LOCAL REMOTE
rclone_sync() {
    RCLONE_CONFIG_B_TYPE=ftp RCLONE_CONFIG_B_HOST=127.0.0.1 RCLONE_CONFIG_B_PORT=$2 \
        RCLONE_CONFIG_B_USER=PlcmSpIp RCLONE_CONFIG_B_PASS=${OBSCURED[$1]} \
        rclone --config "$WORK/rclone.conf" sync --transfers 8 "$3" "B:$4"
}

# The uploaded folder holds exactly the rendered files, byte for byte.
check_upload() { # SERVER FOLDER WHAT
    local dir=${ROOTDIR[$1]}/$2
    if ! diff -rq -x .polyops-state.json "$RENDERED" "$dir" >"$WORK/logs/diff.txt" 2>&1; then
        say "$3: $dir differs from the rendered tree:"
        head -n 5 "$WORK/logs/diff.txt" >&2
        exit 1
    fi
}

# counted PROXY SCENARIO TOOL CMD...: run CMD once with fresh counters on
# PROXY, save what it asked for.
counted() {
    local proxy=$1 scen=$2 tool=$3
    shift 3
    local log="$WORK/logs/count.$scen.$tool"
    proxy_cmd "${CTL[$proxy]}" reset >/dev/null
    pause
    "$@" >"$log.out" 2>"$log.err" || {
        say "$scen / $tool failed; see $log.err"
        exit 1
    }
    save_counts "$proxy" "$scen" "$tool" "$log.err"
}

save_counts() { # PROXY SCENARIO TOOL [STDERR-LOG]
    local stats verbose=
    stats=$(proxy_cmd "${CTL[$1]}" stats)
    if [[ -n ${4:-} ]]; then
        verbose=$(grep -m1 ': observed ' "$4" || true)
    fi
    jq -cn --arg scen "$2" --arg tool "$3" --arg verbose "$verbose" --argjson stats "$stats" \
        '{scenario: $scen, tool: $tool, verbose: $verbose, stats: $stats}' >>"$WORK/counts.jsonl"
}

# run_section NAME FUNCTION: run a section in a subshell; if it fails
# (typically: another test run reset the vsftpd passwords mid-way), make
# sure the servers work and run it once more. Results land only on success.
run_section() {
    local name=$1 fn=$2 attempt rc
    for attempt in 1 2; do
        ensure_servers
        say "== $name"
        rm -f "$WORK/results.$name.tsv" "$WORK/failures.$name.tsv" "$WORK/floor.$name.jsonl"
        set +e
        (
            set -e
            "$fn"
        )
        rc=$?
        set -e
        if ((rc == 0)); then
            cat "$WORK/results.$name.tsv" >>"$WORK/results.tsv" 2>/dev/null || true
            cat "$WORK/failures.$name.tsv" >>"$WORK/failures.tsv" 2>/dev/null || true
            cat "$WORK/floor.$name.jsonl" >>"$WORK/floor.jsonl" 2>/dev/null || true
            return 0
        fi
        say "section $name failed (attempt $attempt)"
    done
    die "section $name failed twice; logs in $WORK/logs"
}

# ---------------------------------------------------------------- set up

wait_idle
say "starting vsftpd and proftpd on 127.0.0.1 (.ci/ftp-servers.sh)"
start_servers
touch "$WORK/rclone.conf"

# One site file per target (a URL names the folder); they render the same bytes.
for n in $(seq 1000 $((1000 + PHONES - 1))); do
    export "EXT_${n}_PASSWORD=pw-$n-secret"
done
for s in vsftpd proftpd; do
    for f in noop fresh delay; do make_folder "$s" "$f"; done
    site "$s-noop" "ftp://127.0.0.1:${PORT[$s]}/noop/"
    site "$s-fresh" "ftp://127.0.0.1:${PORT[$s]}/fresh/"
done

# Proxies: d* delay every reply DELAY_MS, c* only count.
declare -A LPORT CTL UP
for p in dv dp cv cp; do
    LPORT[$p]=$(free_port)
    CTL[$p]=$(free_port)
done
UP[dv]=vsftpd UP[cv]=vsftpd UP[dp]=proftpd UP[cp]=proftpd
for p in dv dp cv cp; do
    delay=0
    [[ $p == d* ]] && delay=$DELAY_MS
    python3 "$ROOT/bench/ftp_proxy.py" --listen "${LPORT[$p]}" --upstream "${PORT[${UP[$p]}]}" \
        --control "${CTL[$p]}" --delay-ms "$delay" 2>"$WORK/logs/proxy-$p.log" &
    PROXY_PIDS+=($!)
done
for p in dv dp cv cp; do
    wait_for_ports "${CTL[$p]}"
    proxy_cmd "${CTL[$p]}" reset >/dev/null || die "proxy $p did not start"
done
site dv-noop "ftp://127.0.0.1:${LPORT[dv]}/noop/"
site dv-fresh "ftp://127.0.0.1:${LPORT[dv]}/delay/"
site dp-noop "ftp://127.0.0.1:${LPORT[dp]}/noop/"
site cv-noop "ftp://127.0.0.1:${LPORT[cv]}/noop/"
site cp-noop "ftp://127.0.0.1:${LPORT[cp]}/noop/"

# Loading a site reads its secrets, the FTP password among them: any
# server's will do for what never connects.
render_site() { # FOLDER
    POLYOPS_FTP_PASSWORD=${PASS[vsftpd]} "$BIN" --sites "$WORK/sites/vsftpd-noop" render --out "$1" lab
}
"$BIN" --sites "$WORK/sites/vsftpd-noop" validate lab >/dev/null
render_site "$WORK/render" >/dev/null
RENDERED=$WORK/render/lab
NFILES=$(find "$RENDERED" -type f | wc -l)
say "site: $PHONES phones, $NFILES files, $(du -sb "$RENDERED" | cut -f1) bytes"

# The no-op folders: one apply each, then local copies whose modification
# times equal the uploaded files' (lftp compares size and time: with equal
# times its dry run is a no-op too, as polyops's plan is).
setup_noop() {
    local s
    for s in vsftpd proftpd; do
        empty_folder "$s" noop
        pol_apply "$s-noop" "$s" >"$WORK/logs/setup-$s.out" 2>"$WORK/logs/setup-$s.err"
        check_upload "$s" noop "setup apply on $s"
        rm -rf "$WORK/local-$s"
        cp -a "$RENDERED" "$WORK/local-$s"
        python3 - "$WORK/local-$s" "${ROOTDIR[$s]}/noop" <<'EOF'
import os, sys
local, remote = sys.argv[1], sys.argv[2]
for name in os.listdir(local):
    st = os.stat(os.path.join(remote, name))
    os.utime(os.path.join(local, name), ns=(st.st_atime_ns, st.st_mtime_ns))
EOF
    done
}

# ---------------------------------------------------------------- sections

section_p1() {
    setup_noop
    local i s
    for i in $(seq "$RUNS"); do
        for s in vsftpd proftpd; do
            timed p1 "noop-plan-$s" polyops "$i" pol_plan "$s-noop" "$s"
            timed p1 "noop-plan-$s" lftp "$i" lftp_mirror "$s" "${PORT[$s]}" "$WORK/local-$s" noop --dry-run
            # lftp's dry run prints what it would do: nothing but the folder.
            if grep -qv '^mkdir -p ' "$WORK/logs/noop-plan-$s.lftp.$i.out"; then
                say "lftp's dry run on $s is not a no-op:"
                sed -E 's#//[^@/]*@#//***@#g' "$WORK/logs/noop-plan-$s.lftp.$i.out" | head -n 3 >&2
                exit 1
            fi
        done
    done
}

section_p2() {
    local i s
    for i in $(seq "$RUNS"); do
        for s in vsftpd proftpd; do
            empty_folder "$s" fresh
            timed p2 "first-apply-$s" polyops "$i" pol_apply "$s-fresh" "$s"
            check_upload "$s" fresh "polyops apply"
            empty_folder "$s" fresh
            timed p2 "first-apply-$s" lftp "$i" lftp_mirror "$s" "${PORT[$s]}" "$RENDERED" fresh
            check_upload "$s" fresh "lftp mirror -R"
            # rclone is 8x (vsftpd) to 40x (proftpd) slower: fewer runs.
            if ((i <= ${RCLONE_N[$s]})); then
                empty_folder "$s" fresh
                timed p2 "first-apply-$s" rclone "$i" rclone_sync "$s" "${PORT[$s]}" "$RENDERED" fresh
                check_upload "$s" fresh "rclone sync"
            fi
        done
    done
}

section_p3() {
    local i
    [[ -d $WORK/local-vsftpd ]] || setup_noop
    for i in $(seq "$DELAY_RUNS"); do
        empty_folder vsftpd delay
        proxy_cmd "${CTL[dv]}" reset >/dev/null
        timed p3 "delayed-apply-vsftpd" polyops "$i" pol_apply dv-fresh vsftpd
        save_counts dv "delayed-apply-vsftpd" polyops "$WORK/logs/delayed-apply-vsftpd.polyops.$i.err"
        check_upload vsftpd delay "polyops apply via the delaying proxy"
        empty_folder vsftpd delay
        proxy_cmd "${CTL[dv]}" reset >/dev/null
        timed p3 "delayed-apply-vsftpd" "polyops --connections 24" "$i" pol_apply dv-fresh vsftpd --connections 24
        save_counts dv "delayed-apply-vsftpd" "polyops --connections 24" "$WORK/logs/delayed-apply-vsftpd.polyops --connections 24.$i.err"
        check_upload vsftpd delay "polyops apply --connections 24 via the delaying proxy"
        empty_folder vsftpd delay
        proxy_cmd "${CTL[dv]}" reset >/dev/null
        timed p3 "delayed-apply-vsftpd" lftp "$i" lftp_mirror vsftpd "${LPORT[dv]}" "$RENDERED" delay
        save_counts dv "delayed-apply-vsftpd" lftp
        check_upload vsftpd delay "lftp mirror -R via the delaying proxy"
        # Both read or ask about every file one round trip at a time on
        # vsftpd (~10-30 s each): once is enough.
        if ((i == 1)); then
            timed p3 "delayed-noop-plan-vsftpd" polyops "$i" pol_plan dv-noop vsftpd
            timed p3 "delayed-noop-plan-vsftpd" lftp "$i" lftp_mirror vsftpd "${LPORT[dv]}" "$WORK/local-vsftpd" noop --dry-run
        fi
        timed p3 "delayed-noop-plan-proftpd" polyops "$i" pol_plan dp-noop proftpd
        timed p3 "delayed-noop-plan-proftpd" "polyops --connections 4" "$i" pol_plan dp-noop proftpd --connections 4
        timed p3 "delayed-noop-plan-proftpd" lftp "$i" lftp_mirror proftpd "${LPORT[dp]}" "$WORK/local-proftpd" noop --dry-run
    done
}

section_p4() {
    local s p
    for s in proftpd vsftpd; do
        p=c${s:0:1}
        counted "$p" "noop-plan-$s" polyops pol_plan "$p-noop" "$s"
        counted "$p" "noop-plan-$s" lftp lftp_mirror "$s" "${LPORT[$p]}" "$WORK/local-$s" noop --dry-run
    done
}

# The protocol floor: a bare Python client listing, hashing or reading the
# no-op folder (bench/ftp_floor.py), to tell polyops's cost from the server's.
floor() { # SERVER RUN MODE CONNECTIONS [PIPELINE]
    floor_at "${PORT[$1]}" "$1" "$@"
}
floor_at() { # PORT LABEL SERVER RUN MODE CONNECTIONS [PIPELINE]
    local out
    pause
    out=$(python3 "$ROOT/bench/ftp_floor.py" "$1" "${PASS[$3]}" noop "$RENDERED" "${@:5}")
    jq -c --arg server "$2" --arg run "$4" '. + {server: $server, run: $run}' <<<"$out" >>"$WORK/floor.$FLOOR_SECTION.jsonl"
}

section_floor() {
    local i
    FLOOR_SECTION=floor
    for i in $(seq "$SWEEP_RUNS"); do
        # polyops's own share of a plan: load, check and render the site
        # (and write it, to tmpfs), no network.
        timed floor "local-render" "polyops render --out (tmpfs)" "$i" \
            render_site "$WORK/render-floor-$i"
        floor vsftpd "$i" list 1
        floor vsftpd "$i" retr 1
        floor vsftpd "$i" retr 2
        floor vsftpd "$i" retr 4
        floor proftpd "$i" list 1
        floor proftpd "$i" hash 1
        floor proftpd "$i" hash 4
        floor proftpd "$i" hash 1 100000
        floor proftpd "$i" hash 4 100000
        # Through the 10 ms proxy: what the pipeline depth is worth there.
        floor_at "${LPORT[dp]}" "proftpd +${DELAY_MS} ms/reply" proftpd "$i" list 1
        floor_at "${LPORT[dp]}" "proftpd +${DELAY_MS} ms/reply" proftpd "$i" hash 4
        floor_at "${LPORT[dp]}" "proftpd +${DELAY_MS} ms/reply" proftpd "$i" hash 4 100000
    done
}

# P5: no network; bench/validate_render.sh builds its own 7,000-phone site.
# Rendered once to tmpfs (what polyops costs) and once to a disk folder
# (what creating 14,001 files costs there too).
section_p5() {
    local disk
    disk=$(mktemp -d "${BENCH_DISK_DIR:-/var/tmp}/polyops-p5.XXXXXX")
    {
        echo "Rendering to tmpfs ($WORK/p5-out):"
        echo
        RUNS=$P5_RUNS OUT="$WORK/p5-out" POLYOPS_BIN=$BIN "$ROOT/bench/validate_render.sh"
        echo
        echo "Rendering to $(df -T "$disk" | awk 'NR == 2 { print $2 }') ($disk):"
        echo
        RUNS=$P5_RUNS OUT="$disk" POLYOPS_BIN=$BIN "$ROOT/bench/validate_render.sh"
    } >"$WORK/p5.md"
    rm -rf "$disk"
    sed 's/^/  /' "$WORK/p5.md" >&2
}

section_sweep() {
    local i s c
    for i in $(seq "$SWEEP_RUNS"); do
        for s in vsftpd proftpd; do
            for c in 1 2 4 8; do
                # A failure here is a finding, not the end of the bench.
                ALLOW_FAIL=1 timed sweep "sweep-noop-plan-$s" "polyops --connections $c" "$i" \
                    pol_plan "$s-noop" "$s" --connections "$c"
                empty_folder "$s" fresh
                ALLOW_FAIL=1 timed sweep "sweep-first-apply-$s" "polyops --connections $c" "$i" \
                    pol_apply "$s-fresh" "$s" --connections "$c"
                if [[ -z $LAST_FAILED ]]; then
                    check_upload "$s" fresh "polyops apply --connections $c"
                fi
            done
        done
    done
}

for section in $SECTIONS; do
    declare -F "section_$section" >/dev/null || die "unknown section $section (SECTIONS: p1 p2 p4 floor sweep p3 p5)"
    run_section "$section" "section_$section"
done

# ---------------------------------------------------------------- report

T_END=$EPOCHREALTIME
jq -n \
    --arg command "${BENCH_COMMAND:-bench/ftp_bench.sh}" \
    --arg runs "$RUNS" --arg delay_runs "$DELAY_RUNS" --arg sweep_runs "$SWEEP_RUNS" \
    --arg phones "$PHONES" --arg files "$NFILES" --arg delay_ms "$DELAY_MS" --arg pause "$PAUSE" \
    --arg nproc "$(nproc)" \
    --arg cpu "$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
    --arg mem_kb "$(awk '/^MemTotal/ {print $2}' /proc/meminfo)" \
    --arg kernel "$(uname -r)" \
    --arg os "$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")" \
    --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
    --arg polyops "$("$BIN" --version)" \
    --arg revision "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src Cargo.toml Cargo.lock 2>/dev/null || echo ' + local changes')" \
    --arg rustc "$(rustc --version 2>/dev/null || echo '?')" \
    --arg lftp "$(lftp --version | head -n 1 | sed -E 's/.*Version ([^ ]+).*/\1/')" \
    --arg rclone "$(rclone version 2>/dev/null | head -n 1 | awk '{print $2}')" \
    --arg vsftpd "$(dpkg-query -W -f='${Version}' vsftpd 2>/dev/null)" \
    --arg proftpd "$(basename "$(ls "${POLYOPS_CI_CACHE:-/var/cache/polyops-ci}"/proftpd-core_*.deb | tail -n 1)" .deb | cut -d_ -f2)" \
    --arg fs "$(df -T "$WORK" | awk 'NR == 2 {print $2}')" \
    --arg restarts "$RESTARTS" \
    --arg seconds "$(((${T_END/./} - ${T_START/./}) / 1000000))" \
    '$ARGS.named' >"$WORK/meta.json"

mkdir -p "$(dirname "$REPORT")"
python3 "$ROOT/bench/ftp_report.py" "$WORK" "$REPORT"
say "Markdown report: $REPORT"
