#!/usr/bin/env bash
# The fleet benchmark: many small sites on one far-away server. polyops
# drift of every site against a loop of `lftp mirror -R --dry-run` per
# site, one site after another and 8 at a time; and a first apply.
#
#     sudo bench/fleet_bench.sh                  # ~10 minutes on 2 cores
#     RUNS=3 BIG_RUNS=1 sudo bench/fleet_bench.sh
#
# What it does (as root, on a fresh Debian/Ubuntu machine):
#   - installs vsftpd, lftp, jq (apt-get) when missing; builds polyops
#     (cargo build --release);
#   - starts a vsftpd of its own on 127.0.0.1 (a free control port, passive
#     ports FLEET_PASV_BASE.., default 47000-47999, clear of
#     .ci/ftp-servers.sh's 50000-53999), for a system user of its own
#     (FLEET_USER, default plcmfleet: .ci/ftp-servers.sh resets the
#     passwords of its users at every start, which would log this bench
#     out), with its FTP root on tmpfs;
#   - starts bench/ftp_proxy.py in front of it: every reply DELAY_MS (25)
#     late, and every data connection reaching the server DELAY_MS after
#     the client made it (the setup of a TCP connection over a slow link;
#     this kernel has no netem); the proxy also counts sessions, commands,
#     rounds (waits for the server) and data connections;
#   - generates BIG_SITES (200) sites of PHONES (12) phones, each its own
#     folder on the one vsftpd (bench/gen_fleet.py; 25 files a site), puts
#     the boot files the phones need (sip.ld, sip.cfg, phone1.cfg) in each
#     folder, applies every site once, and gives lftp local copies
#     (`polyops render --out`) whose modification times are the uploaded
#     files' (lftp compares size and time: its dry run is then a no-op, as
#     polyops's drift is);
#   - measures, tools interleaved run by run, RUNS (5) times:
#       drift-40   `polyops drift` of SITES (40) sites (with --parallel
#                  PARALLEL when polyops has it), a sequential loop of
#                  `lftp mirror -R --dry-run` per site, and the same loop
#                  run PARALLEL (8) sites at a time (xargs -P); also
#                  `polyops drift SITE` run 8 at a time by xargs, the shape
#                  a fleet had before --parallel
#       drift-200  the same over BIG_SITES sites, BIG_RUNS (3) times (the
#                  sequential lftp loop LFTP_BIG_RUNS (1) time: ~3 minutes)
#       sweep      polyops drift of the SITES sites with --connections N for
#                  each N of SWEEP_CONNECTIONS ("2 4 6 8 16"), SWEEP_RUNS (3)
#                  times
#       apply-40   a first `polyops apply` of SITES sites into emptied
#                  folders (the boot files stay), APPLY_RUNS (3) times,
#                  against `lftp mirror -R` 8 sites at a time
#       counts     one site alone, through the proxy's counters: sessions,
#                  commands, rounds, data connections, wall time
#       phones-40  `polyops phones` of the SITES sites against `polyops
#                  drift` of the same sites, RUNS times, interleaved: every
#                  phone first gets a boot log and an app log of
#                  PHONE_LOG_LINES (200) lines, dated after its files (so
#                  every phone is current and phones reads every app log's
#                  tail); the logs are removed afterwards
#   - prints a results table and writes it as Markdown to REPORT
#     (default target/fleet_bench.md).
#
# Every drift must exit 0 and every lftp dry run print nothing; every
# applied folder is compared with the rendered tree. Only 127.0.0.1 is
# ever contacted.
#
# Environment: SITES (40), BIG_SITES (200; 0 skips drift-200), PHONES (12),
# DELAY_MS (25), RUNS (5), BIG_RUNS (3), LFTP_BIG_RUNS (1), APPLY_RUNS (3),
# SWEEP_RUNS (3), SWEEP_CONNECTIONS ("2 4 6 8 16"), PARALLEL (8),
# PHONE_LOG_LINES (200),
# SECTIONS ("counts drift-40 sweep apply-40 drift-200 phones-40"), PAUSE
# (0.3 s between commands), REPORT, KEEP=1 (keep the work folder),
# BENCH_DIR (parent of the work folder; default /dev/shm), NO_WAIT=1 (do
# not wait for a test suite to end), FLEET_USER, FLEET_PASV_BASE,
# POLYOPS_ARGS (extra polyops options, e.g. "--connections 8"), POLYOPS_BIN
# (measure this binary instead of building one).
set -euo pipefail
export LC_ALL=C

SITES=${SITES:-40}
BIG_SITES=${BIG_SITES:-200}
PHONES=${PHONES:-12}
DELAY_MS=${DELAY_MS:-25}
RUNS=${RUNS:-5}
BIG_RUNS=${BIG_RUNS:-3}
LFTP_BIG_RUNS=${LFTP_BIG_RUNS:-1}
APPLY_RUNS=${APPLY_RUNS:-3}
SWEEP_RUNS=${SWEEP_RUNS:-3}
SWEEP_CONNECTIONS=${SWEEP_CONNECTIONS:-2 4 6 8 16}
PARALLEL=${PARALLEL:-8}
PAUSE=${PAUSE:-0.3}
PHONE_LOG_LINES=${PHONE_LOG_LINES:-200}
SECTIONS=${SECTIONS:-counts drift-40 sweep apply-40 drift-200 phones-40}
FLEET_USER=${FLEET_USER:-plcmfleet}
PASV_LO=${FLEET_PASV_BASE:-47000}
PASV_HI=$((PASV_LO + 999))
read -r -a POLYOPS_ARGS <<<"${POLYOPS_ARGS:-}"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPORT=${REPORT:-$ROOT/target/fleet_bench.md}
T_START=$EPOCHREALTIME
BENCH=fleet_bench
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

require_root "vsftpd needs it"
((BIG_SITES == 0 || BIG_SITES >= SITES)) || die "BIG_SITES must be 0 or at least SITES"

# ---------------------------------------------------------------- install

apt_install vsftpd lftp jq python3 procps
build_polyops

# ---------------------------------------------------------------- work folder

make_work polyops-fleet
mkdir -p "$WORK/logs" "$WORK/root" "$WORK/vsftpd"
: >"$WORK/results.tsv"
: >"$WORK/counts.jsonl"
PIDS=()
cleanup() { stop_own $? "$FLEET_USER"; }
trap cleanup EXIT

# ---------------------------------------------------------------- helpers

pause() { sleep "$PAUSE"; }

site_names() { # N -> site001 .. siteN
    local i
    for ((i = 1; i <= $1; i++)); do printf 'site%03d\n' "$i"; done
}

# timed SECTION SCENARIO TOOL RUN CMD...: run CMD once, record its wall
# time, and the CPU seconds of the whole machine, vsftpd and the proxy.
timed() {
    local section=$1 scen=$2 tool=$3 run=$4
    shift 4
    local log="$WORK/logs/$scen.$tool.$run" t0 t1 rc=0 us c0 c1 v0 v1 p0 p1
    pause
    c0=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat)
    v0=$(vsftpd_cpu)
    p0=$(cpu_of "$PROXY_PID")
    t0=$EPOCHREALTIME
    "$@" >"$log.out" 2>"$log.err" || rc=$?
    t1=$EPOCHREALTIME
    c1=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat)
    # Sessions end as their client exits: vsftpd counts a session's CPU
    # once it has reaped it, a moment later.
    sleep 0.3
    v1=$(vsftpd_cpu)
    p1=$(cpu_of "$PROXY_PID")
    if ((rc != 0)); then
        say "$scen / $tool run $run failed (exit $rc); last lines of $log.err:"
        tail -n 5 "$log.err" >&2
        exit 1
    fi
    us=$((${t1/./} - ${t0/./}))
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$section" "$scen" "$tool" "$run" "$us" \
        "$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", (b - a) / 100 }')" \
        "$(awk -v a="$v0" -v b="$v1" 'BEGIN { printf "%.2f", b - a }')" \
        "$(awk -v a="$p0" -v b="$p1" 'BEGIN { printf "%.2f", b - a }')" >>"$WORK/results.tsv"
    printf '  %-14s %-40s run %d: %3d.%03d s\n' "$scen" "$tool" "$run" $((us / 1000000)) $((us % 1000000 / 1000)) >&2
}

# CPU seconds of vsftpd's listener and every session it forked and reaped.
vsftpd_cpu() {
    cpu_of "$VSFTPD_PID"
}

# ---------------------------------------------------------------- the server

start_own_vsftpd "$FLEET_USER" "$PASV_LO" "$PASV_HI"

PROXY_PORT=$(free_port)
CTL_PORT=$(free_port)
python3 "$ROOT/bench/ftp_proxy.py" --listen "$PROXY_PORT" --upstream "$FTP_PORT" --control "$CTL_PORT" \
    --delay-ms "$DELAY_MS" --data-delay-ms "$DELAY_MS" 2>"$WORK/logs/proxy.log" &
PROXY_PID=$!
PIDS+=("$PROXY_PID")
wait_for_ports "$CTL_PORT" "$PROXY_PORT"
proxy_cmd "$CTL_PORT" reset >/dev/null || die "the proxy did not start"

# ---------------------------------------------------------------- the sites

export POLYOPS_FTP_PASSWORD=$PASSWORD FLEET_EXT_PASSWORD=fleet-ext-secret
ALL=$((BIG_SITES > SITES ? BIG_SITES : SITES))
python3 "$ROOT/bench/gen_fleet.py" "$WORK/sites-all" "$ALL" "ftp://127.0.0.1:$PROXY_PORT/" "$FLEET_USER" "$PHONES"
mkdir -p "$WORK/sites-$SITES"
for s in $(site_names "$SITES"); do cp "$WORK/sites-all/$s.yaml" "$WORK/sites-$SITES/"; done
"$BIN" --sites "$WORK/sites-all" validate >/dev/null
"$BIN" --sites "$WORK/sites-all" render --out "$WORK/render" >/dev/null
NFILES=$(find "$WORK/render/site001" -type f | wc -l)
say "$ALL sites of $PHONES phones, $NFILES files each ($(du -sb "$WORK/render/site001" | cut -f1) bytes)"

# What the phones boot from beside the rendered files (the boot check
# looks for them), owned like uploaded files.
for s in $(site_names "$ALL"); do
    mkdir -p "$WORK/root/$s"
    head -c 4096 /dev/zero >"$WORK/root/$s/sip.ld"
    printf '<sip/>\n' >"$WORK/root/$s/sip.cfg"
    printf '<phone1/>\n' >"$WORK/root/$s/phone1.cfg"
done
chown -R "$FLEET_USER:" "$WORK/root"

HAS_PARALLEL=
if "$BIN" drift --help 2>/dev/null | grep -q -- '--parallel'; then
    HAS_PARALLEL=1
fi
pol() { "$BIN" "${POLYOPS_ARGS[@]}" "$@"; }
par() { [[ -n $HAS_PARALLEL ]] && printf '%s\n' --parallel "$PARALLEL"; }

# Every site's folder holds exactly the rendered files (and the boot files).
check_applied() { # N WHAT
    local s
    for s in $(site_names "$1"); do
        if ! diff -rq -x .polyops-state.json -x sip.ld -x sip.cfg -x phone1.cfg \
            "$WORK/render/$s" "$WORK/root/$s" >"$WORK/logs/diff.txt" 2>&1; then
            say "$2: $s differs from the rendered tree:"
            head -n 5 "$WORK/logs/diff.txt" >&2
            exit 1
        fi
    done
}

# lftp's local copies carry the uploaded files' modification times.
sync_times() { # N
    python3 - "$WORK/render" "$WORK/root" "$1" <<'EOF'
import os, sys
local, remote, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(1, n + 1):
    site = f"site{i:03d}"
    for name in os.listdir(os.path.join(local, site)):
        st = os.stat(os.path.join(remote, site, name))
        os.utime(os.path.join(local, site, name), ns=(st.st_atime_ns, st.st_mtime_ns))
EOF
}

# Empty the first N folders but for the boot files.
empty_sites() { # N
    local s
    for s in $(site_names "$1"); do
        find "$WORK/root/$s" -mindepth 1 -maxdepth 1 ! -name sip.ld ! -name sip.cfg ! -name phone1.cfg -exec rm -rf {} +
    done
}

say "applying all $ALL sites once (setup, $PARALLEL at a time)"
site_names "$ALL" | xargs -P "$PARALLEL" -I{} "$BIN" --sites "$WORK/sites-all" apply --auto-approve {} \
    >"$WORK/logs/setup.out" 2>"$WORK/logs/setup.err" || die "the setup apply failed; see $WORK/logs/setup.err"
check_applied "$ALL" "setup apply"
sync_times "$ALL"

# ---------------------------------------------------------------- the tools

# drift of every site in DIR: exit 0, nothing drifted.
pol_drift() { # DIR [OPTION...]
    pol --sites "$1" "${@:2}" drift $(par)
}
# The shape of a fleet before --parallel: one polyops per site, 8 at a time.
pol_drift_xargs() { # DIR [OPTION...]
    find "$1" -name 'site*.yaml' -printf '%f\n' | sed 's/\.yaml$//' | sort |
        xargs -P "$PARALLEL" -I{} "$BIN" "${POLYOPS_ARGS[@]}" --sites "$1" "${@:2}" drift {}
}
pol_apply() { # DIR
    pol --sites "$1" apply --auto-approve $(par)
}

# One lftp dry run (or, with --upload, a mirror) of site S. lftp's
# defaults, as a user would run it; it must print nothing for a dry run.
lftp_one() { # SITE [--upload]
    local s=$1 dry=--dry-run out
    [[ ${2:-} == --upload ]] && dry=
    out=$(lftp -u "$FLEET_USER,$PASSWORD" \
        -e "set cmd:fail-exit yes; mirror -R $dry $WORK/render/$s $s; quit" \
        "ftp://127.0.0.1:$PROXY_PORT") || return 1
    # A dry run names the folder it would create, though it exists.
    out=$(grep -v '^mkdir -p ' <<<"$out" || true)
    if [[ -n $dry && -n $out ]]; then
        printf 'lftp %s: not a no-op:\n%s\n' "$s" "$out" | sed -E 's#//[^@/]*@#//***@#g' | head -n 5 >&2
        return 1
    fi
}
export -f lftp_one
export FLEET_USER PASSWORD WORK PROXY_PORT
lftp_loop() { # N
    local s
    for s in $(site_names "$1"); do lftp_one "$s"; done
}
lftp_xargs() { # N [--upload]
    site_names "$1" | xargs -P "$PARALLEL" -I{} bash -c 'lftp_one "$1" '"${2:-}" _ {}
}

# ---------------------------------------------------------------- sections

# What one login costs vsftpd: N logins one after another, straight to
# the server (no proxy).
logins() { log_in "$FTP_PORT" "$FLEET_USER" "$PASSWORD" "$1"; } # N

section_counts() {
    local stats verbose s=site001 one=$WORK/sites-one
    timed counts logins-20 "python ftplib, 20 logins, no proxy" 1 logins 20
    mkdir -p "$one"
    cp "$WORK/sites-all/$s.yaml" "$one/"
    for tool in polyops lftp; do
        proxy_cmd "$CTL_PORT" reset >/dev/null
        if [[ $tool == polyops ]]; then
            timed counts drift-1 polyops 1 pol --sites "$one" -v drift "$s"
        else
            timed counts drift-1 lftp 1 lftp_one "$s"
        fi
        stats=$(proxy_cmd "$CTL_PORT" stats)
        verbose=$(grep -m1 ': observed ' "$WORK/logs/drift-1.$tool.1.err" || true)
        jq -cn --arg scen drift-1 --arg tool "$tool" --arg verbose "$verbose" --argjson stats "$stats" \
            '{scenario: $scen, tool: $tool, verbose: $verbose, stats: $stats}' >>"$WORK/counts.jsonl"
    done
    # A first apply of one site.
    empty_sites 1
    proxy_cmd "$CTL_PORT" reset >/dev/null
    timed counts apply-1 polyops 1 pol --sites "$one" -v apply --auto-approve "$s"
    stats=$(proxy_cmd "$CTL_PORT" stats)
    jq -cn --arg scen apply-1 --arg tool polyops --argjson stats "$stats" \
        '{scenario: $scen, tool: $tool, verbose: "", stats: $stats}' >>"$WORK/counts.jsonl"
    check_applied 1 "apply of one site"
    # The whole fleet's drift, counted once.
    proxy_cmd "$CTL_PORT" reset >/dev/null
    timed counts drift-all polyops 1 pol_drift "$WORK/sites-$SITES"
    stats=$(proxy_cmd "$CTL_PORT" stats)
    jq -cn --arg scen "drift-$SITES" --arg tool polyops --argjson stats "$stats" \
        '{scenario: $scen, tool: $tool, verbose: "", stats: $stats}' >>"$WORK/counts.jsonl"
    sync_times 1
}

section_drift_40() {
    local i
    for i in $(seq "$RUNS"); do
        timed drift-40 "drift-$SITES" polyops "$i" pol_drift "$WORK/sites-$SITES"
        timed drift-40 "drift-$SITES" "lftp loop" "$i" lftp_loop "$SITES"
        timed drift-40 "drift-$SITES" "lftp xargs -P $PARALLEL" "$i" lftp_xargs "$SITES"
        timed drift-40 "drift-$SITES" "polyops xargs -P $PARALLEL" "$i" pol_drift_xargs "$WORK/sites-$SITES"
    done
}

# polyops --connections N (the sessions of one site) over the same fleet.
section_sweep() {
    local i c
    for i in $(seq "$SWEEP_RUNS"); do
        for c in $SWEEP_CONNECTIONS; do
            if [[ -n $HAS_PARALLEL ]]; then
                timed sweep "drift-$SITES" "polyops --connections $c" "$i" \
                    pol_drift "$WORK/sites-$SITES" --connections "$c"
            fi
            timed sweep "drift-$SITES" "polyops xargs -P $PARALLEL --connections $c" "$i" \
                pol_drift_xargs "$WORK/sites-$SITES" --connections "$c"
        done
    done
}

section_drift_200() {
    local i
    ((BIG_SITES > 0)) || return 0
    for i in $(seq "$BIG_RUNS"); do
        timed drift-200 "drift-$BIG_SITES" polyops "$i" pol_drift "$WORK/sites-all"
        if ((i <= LFTP_BIG_RUNS)); then
            timed drift-200 "drift-$BIG_SITES" "lftp loop" "$i" lftp_loop "$BIG_SITES"
        fi
        timed drift-200 "drift-$BIG_SITES" "lftp xargs -P $PARALLEL" "$i" lftp_xargs "$BIG_SITES"
    done
}

section_apply_40() {
    local i
    for i in $(seq "$APPLY_RUNS"); do
        empty_sites "$SITES"
        timed apply-40 "apply-$SITES" polyops "$i" pol_apply "$WORK/sites-$SITES"
        check_applied "$SITES" "polyops apply"
        empty_sites "$SITES"
        timed apply-40 "apply-$SITES" "lftp xargs -P $PARALLEL" "$i" lftp_xargs "$SITES" --upload
        check_applied "$SITES" "lftp mirror -R"
    done
    # Leave the folders as polyops keeps them, for any later section.
    empty_sites "$SITES"
    pol_apply "$WORK/sites-$SITES" >/dev/null 2>&1
    sync_times "$SITES"
}

# ---------------------------------------------------------------- phones

# Every phone of the first N sites gets a boot log and an app log (LINES
# lines in Polycom's format, one error line in ten naming no file the
# phone reads), dated a minute after the newest file of its site, owned
# like uploaded files.
put_phone_logs() { # N
    python3 - "$WORK/root" "$1" "$PHONE_LOG_LINES" <<'EOF'
import os, re, sys
root, n, lines = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(1, n + 1):
    folder = os.path.join(root, f"site{i:03d}")
    names = os.listdir(folder)
    newest = max(os.stat(os.path.join(folder, f)).st_mtime for f in names)
    for name in names:
        if not re.fullmatch(r"[0-9a-f]{12}\.cfg", name):
            continue
        mac = name[:12]
        app = []
        for k in range(lines):
            level, text = (4, "Could not load ringer.wav") if k % 10 == 9 else (2, f"event {k}")
            app.append(f"1206120000|so   |{level}|00|{text}\r\n")
        for log, text in ((f"{mac}-boot.log", "1206115900|boot |2|00|booted\r\n"),
                          (f"{mac}-app.log", "".join(app))):
            path = os.path.join(folder, log)
            with open(path, "w") as f:
                f.write(text)
            os.utime(path, (newest + 60, newest + 60))
EOF
    chown -R "$FLEET_USER:" "$WORK/root"
}

remove_phone_logs() { # N
    local s
    for s in $(site_names "$1"); do
        rm -f "$WORK/root/$s"/*-boot.log "$WORK/root/$s"/*-app.log
    done
}

# phones of every site in DIR: exit 0, every phone current.
pol_phones() { # DIR [OPTION...]
    pol --sites "$1" "${@:2}" phones $(par)
}

section_phones_40() {
    local i
    put_phone_logs "$SITES"
    for i in $(seq "$RUNS"); do
        timed phones-40 "phones-$SITES" "polyops drift" "$i" pol_drift "$WORK/sites-$SITES"
        timed phones-40 "phones-$SITES" "polyops phones" "$i" pol_phones "$WORK/sites-$SITES"
    done
    remove_phone_logs "$SITES"
}

for section in $SECTIONS; do
    fn=section_${section//-/_}
    declare -F "$fn" >/dev/null || die "unknown section $section (SECTIONS: counts drift-40 sweep apply-40 drift-200 phones-40)"
    wait_idle
    say "== $section"
    "$fn"
done

# ---------------------------------------------------------------- report

T_END=$EPOCHREALTIME
jq -n \
    --arg command "${BENCH_COMMAND:-bench/fleet_bench.sh}" \
    --arg sites "$SITES" --arg big_sites "$BIG_SITES" --arg phones "$PHONES" --arg files "$NFILES" \
    --arg delay_ms "$DELAY_MS" --arg runs "$RUNS" --arg big_runs "$BIG_RUNS" \
    --arg lftp_big_runs "$LFTP_BIG_RUNS" --arg apply_runs "$APPLY_RUNS" \
    --arg parallel "$PARALLEL" --arg has_parallel "${HAS_PARALLEL:-}" --arg pause "$PAUSE" \
    --arg polyops_args "${POLYOPS_ARGS[*]}" \
    --arg nproc "$(nproc)" \
    --arg cpu "$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
    --arg kernel "$(uname -r)" \
    --arg os "$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")" \
    --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
    --arg polyops "$("$BIN" --version)" \
    --arg revision "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src Cargo.toml Cargo.lock 2>/dev/null || echo ' + local changes')" \
    --arg lftp "$(lftp --version | head -n 1 | sed -E 's/.*Version ([^ ]+).*/\1/')" \
    --arg vsftpd "$(dpkg-query -W -f='${Version}' vsftpd 2>/dev/null)" \
    --arg seconds "$(((${T_END/./} - ${T_START/./}) / 1000000))" \
    '$ARGS.named' >"$WORK/meta.json"

mkdir -p "$(dirname "$REPORT")"
python3 "$ROOT/bench/fleet_report.py" "$WORK" "$REPORT"
say "Markdown report: $REPORT"
