# What the bench scripts share: messages, installing, the work folder,
# waiting for a quiet machine, ports, CPU counters, the counting proxy and
# a vsftpd of a bench's own. Sourced, never run; the script sets BENCH (its
# name in messages) before sourcing it.
#
# Only 127.0.0.1 is ever contacted.

BUSY_PATTERN='cargo test|\.ci/run|ftp_scenarios'

say() { printf '%s: %s\n' "$BENCH" "$*" >&2; }
die() {
    say "ERROR: $*"
    exit 1
}

require_root() { # WHY
    [[ $(id -u) -eq 0 ]] || die "run as root: $1 (sudo $0)"
}

APT_UPDATED=
# apt_install PACKAGE...: install what is missing.
apt_install() {
    local missing=() p
    for p in "$@"; do
        [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] || missing+=("$p")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    if [[ -z $APT_UPDATED ]]; then
        say "apt-get update"
        apt-get update -qq >/dev/null
        APT_UPDATED=1
    fi
    say "apt-get install ${missing[*]}"
    # vsftpd's package would start a vsftpd on *:21 where an init system
    # runs; policy-rc.d keeps it from doing so.
    local policy=/usr/sbin/policy-rc.d made=
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        made=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    [[ -n $made ]] && rm -f "$policy"
    return 0
}

# build_polyops: BIN is POLYOPS_BIN when set, else a fresh release build.
build_polyops() {
    if [[ -n ${POLYOPS_BIN:-} ]]; then
        BIN=$POLYOPS_BIN
        return 0
    fi
    command -v cargo >/dev/null || die "cargo is missing: install Rust (https://rustup.rs) first"
    say "cargo build --release"
    cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
    BIN=$ROOT/target/release/polyops
}

# make_work PREFIX: WORK, a new folder under BENCH_DIR (default /dev/shm:
# the servers' files live on tmpfs, so the disk does not set the numbers).
make_work() {
    local base=${BENCH_DIR:-/dev/shm}
    [[ -d $base && -w $base ]] || base=/tmp
    WORK=$(mktemp -d "$base/$1.XXXXXX")
    chmod 711 "$WORK" # the FTP users must reach their roots below it
}

# Wait until no test suite runs: it would share the CPU, and a
# .ci/ftp-servers.sh start resets the vsftpd users' passwords.
wait_idle() {
    [[ ${NO_WAIT:-} == 1 ]] && return 0
    local waited=0
    while pgrep -f "$BUSY_PATTERN" >/dev/null; do
        if ((waited % 60 == 0)); then
            say "waiting: a test suite runs ($(pgrep -f "$BUSY_PATTERN" | head -n 3 | xargs -r ps -o args= -p | cut -c1-60 | paste -sd ';'))"
        fi
        sleep 5
        waited=$((waited + 5))
    done
    if ((waited > 0)); then
        say "idle after ${waited}s; letting the machine settle"
        sleep 5
    fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for_ports PORT...: until each accepts a connection (5 s at most).
wait_for_ports() {
    local port
    for port in "$@"; do
        for _ in $(seq 50); do
            (exec 6<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
            sleep 0.1
        done
    done
}

# CPU seconds (user + system) a process and its reaped children used.
cpu_of() {
    awk '{ printf "%.3f\n", ($14 + $15 + $16 + $17) / 100 }' "/proc/$1/stat"
}

# proxy_cmd CONTROLPORT COMMAND: one command to bench/ftp_proxy.py's
# control port; prints its reply line.
proxy_cmd() {
    local reply
    exec 7<>"/dev/tcp/127.0.0.1/$1"
    printf '%s\n' "$2" >&7
    read -r reply <&7
    exec 7<&- 7>&-
    printf '%s\n' "$reply"
}

# log_in PORT USER PASSWORD [N]: N (1) plain FTP logins, each with its
# QUIT, one after another, by a bare Python client.
log_in() {
    python3 - "$1" "$2" "$3" "${4:-1}" <<'EOF'
import ftplib, sys
for _ in range(int(sys.argv[4])):
    f = ftplib.FTP()
    f.connect("127.0.0.1", int(sys.argv[1]), timeout=10)
    f.login(sys.argv[2], sys.argv[3])
    f.quit()
EOF
}

can_log_in() { log_in "$@" >/dev/null 2>&1; } # PORT USER PASSWORD

# start_own_vsftpd USER PASV_LO PASV_HI: a vsftpd of this bench's own on
# 127.0.0.1, a free control port, for the system user USER (made or
# re-homed here; locked again by lock_own_user) with root $WORK/root.
# Sets PASSWORD, FTP_PORT and VSFTPD_PID, and adds the pid to PIDS.
start_own_vsftpd() {
    local user=$1 lo=$2 hi=$3
    say "starting vsftpd on 127.0.0.1 (user $user, passive ports $lo-$hi)"
    PASSWORD=$(openssl rand -hex 16)
    grep -qx /bin/bash /etc/shells || echo /bin/bash >>/etc/shells
    if id "$user" >/dev/null 2>&1; then
        usermod -d "$WORK/root" -s /bin/bash "$user" >/dev/null
    else
        useradd -M -d "$WORK/root" -s /bin/bash "$user"
    fi
    # A SHA-512 crypt hash (~3 ms a login here), not Debian's default
    # yescrypt (~40 ms of CPU a login on this machine): on a real fleet the
    # server's CPU is its own, here it is one of the two cores the clients
    # and the proxy use too.
    printf '%s:%s\n' "$user" "$(openssl passwd -6 "$PASSWORD")" | chpasswd -e
    usermod -U "$user" >/dev/null 2>&1 || true
    mkdir -p "$WORK/root" "$WORK/vsftpd" "$WORK/logs" /var/run/vsftpd/empty
    chown -R "$user:" "$WORK/root"
    chmod 755 "$WORK/root"
    FTP_PORT=$(free_port)
    write_vsftpd_conf "$lo" "$hi" >"$WORK/vsftpd/vsftpd.conf"
    chmod 600 "$WORK/vsftpd/vsftpd.conf"
    setsid vsftpd "$WORK/vsftpd/vsftpd.conf" 2>"$WORK/logs/vsftpd.log" &
    VSFTPD_PID=$!
    PIDS+=("$VSFTPD_PID")
    wait_for_ports "$FTP_PORT"
    can_log_in "$FTP_PORT" "$user" "$PASSWORD" || die "cannot log in to vsftpd (see $WORK/logs/vsftpd.log)"
}

write_vsftpd_conf() { # PASV_LO PASV_HI
    cat <<EOF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$FTP_PORT
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
local_root=$WORK/root
chroot_local_user=YES
allow_writeable_chroot=YES
pasv_enable=YES
pasv_address=127.0.0.1
pasv_min_port=$1
pasv_max_port=$2
port_enable=NO
pam_service_name=vsftpd
secure_chroot_dir=/var/run/vsftpd/empty
seccomp_sandbox=NO
max_clients=0
max_per_ip=0
dirmessage_enable=NO
use_localtime=NO
xferlog_enable=NO
EOF
}

# stop_own: kill the processes in PIDS, lock USER again, and remove WORK
# unless KEEP=1 or the bench failed (exit status RC).
stop_own() { # RC USER
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    usermod -L "$2" >/dev/null 2>&1 || true
    keep_or_remove_work "$1"
}

keep_or_remove_work() { # RC
    if [[ ${KEEP:-} == 1 || $1 -ne 0 ]]; then
        say "work folder kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
