#!/usr/bin/env bash
# Real FTP servers on 127.0.0.1 for polyops' interop tests.
#
#   .ci/ftp-servers.sh start DIR   install what is missing, start the servers,
#                                  write DIR/servers.json (mode 600)
#   .ci/ftp-servers.sh stop DIR    stop the servers started with that DIR
#
# Needs root (the servers drop privileges themselves). Servers:
#   vsftpd      plain FTP                         (system users, PAM)
#   vsftpd-tls  explicit FTPS (AUTH TLS required) (system users, PAM)
#   proftpd     plain FTP with mod_digest (HASH, XSHA256, ...) (virtual users)
#   pure-ftpd   plain FTP (virtual users; read-only by file permissions)
# Each has its own FTP root under DIR, shared by a read-write user (PlcmSpIp)
# and a read-only user (plcmro). Passwords are random, written only to
# DIR/servers.json. The system users PlcmSpIp and plcmro are created if
# missing; their passwords are reset by every start (so only the last started
# DIR's vsftpd passwords are valid) and locked again by stop.
#
# DIR/servers.json: a JSON array, one object per server:
#   {"name": "vsftpd" | "vsftpd-tls" | "proftpd" | "pure-ftpd",
#    "url": "ftp://127.0.0.1:PORT/" or "ftps://127.0.0.1:PORT/" (explicit TLS),
#    "root": absolute path of the server's FTP root on disk,
#    "user", "password": the read-write user,
#    "ro_user", "ro_password": the read-only user,
#    "ca_file": PEM of the CA that signed the server's certificate, or null}
# Files uploaded land in "root" owned by PlcmSpIp, mode 644. A file that root
# writes there directly stays root's: the FTP user can delete or rename over
# it (the folder is PlcmSpIp's) but not overwrite it in place; chown it to
# the owner of "root" to make it look uploaded.
#
# Environment (all optional):
#   POLYOPS_FTP_PORT        first control port to try (default 2121); each
#                           server takes the next free port from there
#   POLYOPS_FTP_PASV_BASE   first passive port (default 50000); the servers
#                           use BASE..BASE+999, BASE+1000..+1999, and so on
#   POLYOPS_CI_CACHE        where the proftpd-core and pure-ftpd .debs are
#                           kept between runs
#                           (default /var/cache/polyops-ci)
set -euo pipefail

RW_USER=PlcmSpIp
RO_USER=plcmro
ADDR=127.0.0.1
SERVERS=(vsftpd vsftpd-tls proftpd pure-ftpd)

say() { printf 'ftp-servers: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

usage() {
    echo "usage: $0 start|stop DIR" >&2
    exit 2
}

[[ $# -eq 2 ]] || usage
ACTION=$1
[[ -n $2 ]] || usage
mkdir -p "$2"
DIR=$(cd "$2" && pwd -P)

# ---------------------------------------------------------------- stopping

# A server that exited is reparented to pid 1, which may take a while to reap
# it: a zombie counts as gone.
pid_alive() {
    [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null || return 1
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

# Stop the server whose pid file is DIR/NAME/server.pid. The server was
# started by setsid, so it leads its own process group; its per-session
# children are in that group too and are ended with it.
stop_one() {
    local name=$1 pidfile="$DIR/$1/server.pid" pid i
    [[ -f $pidfile ]] || return 0
    pid=$(<"$pidfile")
    if [[ $pid =~ ^[0-9]+$ ]] && pid_alive "$pid"; then
        if [[ $(ps -o pgid= -p "$pid" | tr -d ' ') == "$pid" ]]; then
            kill -TERM -- "-$pid" 2>/dev/null || true
        else
            kill -TERM "$pid" 2>/dev/null || true
        fi
        for ((i = 0; i < 50; i++)); do
            pid_alive "$pid" || break
            sleep 0.1
        done
        if pid_alive "$pid"; then
            say "$name (pid $pid) did not stop on TERM; sending KILL"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$pidfile"
}

stop_all() {
    local name
    for name in "${SERVERS[@]}"; do
        stop_one "$name"
    done
}

lock_system_users() {
    local u
    for u in "$RW_USER" "$RO_USER"; do
        if id "$u" >/dev/null 2>&1; then
            usermod -L "$u" >/dev/null 2>&1 || true
        fi
    done
}

if [[ $ACTION == stop ]]; then
    [[ $(id -u) -eq 0 ]] || die "stop must run as root"
    stop_all
    lock_system_users
    say "stopped the servers of $DIR"
    exit 0
fi
[[ $ACTION == start ]] || usage
[[ $(id -u) -eq 0 ]] || die "start must run as root (the FTP servers need it)"

T0=$(date +%s.%N)

# ---------------------------------------------------------------- installing

APT_UPDATED=
apt_update_once() {
    if [[ -z $APT_UPDATED ]]; then
        say "apt-get update"
        apt-get update -qq >/dev/null || die "apt-get update failed"
        APT_UPDATED=1
    fi
}

pkg_installed() {
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

apt_install() {
    local missing=() p
    for p in "$@"; do
        pkg_installed "$p" || missing+=("$p")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    apt_update_once
    say "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
}

# vsftpd's package starts a vsftpd on *:21 through its init script where an
# init system runs; policy-rc.d keeps it from doing so during the install.
install_vsftpd() {
    pkg_installed vsftpd && return 0
    local policy=/usr/sbin/policy-rc.d made_policy=
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        made_policy=1
    fi
    apt_install vsftpd
    [[ -n $made_policy ]] && rm -f "$policy"
    return 0
}

# Unpack package PKG (downloaded once into the cache) into DIR/DEST:
# vsftpd, proftpd and pure-ftpd conflict as packages.
unpack_package() {
    local pkg=$1 dest=$DIR/$2 cache=${POLYOPS_CI_CACHE:-/var/cache/polyops-ci} deb
    mkdir -p "$cache"
    deb=$(ls -1 "$cache"/"${pkg}"_*.deb 2>/dev/null | tail -n 1 || true)
    if [[ -z $deb ]]; then
        apt_update_once
        say "apt-get download $pkg"
        # apt fetches as _apt: give it a folder of its own to write to.
        local tmp
        tmp=$(mktemp -d)
        chmod 755 "$tmp"
        id _apt >/dev/null 2>&1 && chown _apt "$tmp"
        (cd "$tmp" && apt-get download -qq "$pkg" >/dev/null) ||
            die "apt-get download $pkg failed"
        mv "$tmp"/"${pkg}"_*.deb "$cache"/
        rm -rf "$tmp"
        deb=$(ls -1 "$cache"/"${pkg}"_*.deb 2>/dev/null | tail -n 1 || true)
        [[ -n $deb ]] || die "apt-get download $pkg left no .deb in $cache"
    fi
    if [[ ! -d $dest/usr ]]; then
        rm -rf "$dest"
        dpkg -x "$deb" "$dest" || die "dpkg -x $deb failed"
    fi
}

# Fail with the missing libraries if any of the binaries needs one.
check_libraries() {
    local name=$1
    shift
    if ldd "$@" | grep -q 'not found'; then
        ldd "$@" | grep 'not found' >&2 || true
        die "$name: shared libraries missing (see above)"
    fi
}

install_proftpd() {
    apt_install libhiredis0.14 libmemcached11 libmemcachedutil2 libpcre2-posix3
    unpack_package proftpd-core proftpd-pkg
    [[ -f $DIR/proftpd-pkg/usr/lib/proftpd/mod_digest.so ]] ||
        die "proftpd: the proftpd-core package has no mod_digest.so"
    check_libraries proftpd "$DIR/proftpd-pkg/usr/sbin/proftpd" "$DIR/proftpd-pkg/usr/lib/proftpd/mod_digest.so"
}

install_pureftpd() {
    apt_install libsodium23 libcap2
    unpack_package pure-ftpd pure-ftpd-pkg
    [[ -x $DIR/pure-ftpd-pkg/usr/sbin/pure-ftpd && -x $DIR/pure-ftpd-pkg/usr/bin/pure-pw ]] ||
        die "pure-ftpd: the package has no pure-ftpd or pure-pw"
    check_libraries pure-ftpd "$DIR/pure-ftpd-pkg/usr/sbin/pure-ftpd" "$DIR/pure-ftpd-pkg/usr/bin/pure-pw"
}

command -v jq >/dev/null || apt_install jq
command -v openssl >/dev/null || apt_install openssl
install_vsftpd
install_proftpd
install_pureftpd
T_INSTALLED=$(date +%s.%N)

# ---------------------------------------------------------------- layout

# Restarting on the same DIR: stop what runs there first.
stop_all

# DIR may have come from mktemp -d (mode 700): the FTP users must be able to
# reach their roots inside it.
chmod 711 "$DIR"

# Each server's files live in DIR/NAME; its FTP root in DIR/NAME/root.
for name in "${SERVERS[@]}"; do
    mkdir -p "$DIR/$name/root"
    chmod 711 "$DIR/$name"
done

# ---------------------------------------------------------------- ports

# Ports something already listens on (IPv4 and IPv6, any address).
listening_ports() {
    local f _sl laddr _rem state _rest
    for f in /proc/net/tcp /proc/net/tcp6; do
        [[ -r $f ]] || continue
        while read -r _sl laddr _rem state _rest; do
            [[ $state == 0A ]] && echo $((16#${laddr##*:}))
        done < <(tail -n +2 "$f")
    done | sort -un
}

declare -A TAKEN=()
while read -r p; do TAKEN[$p]=1; done < <(listening_ports)

NEXT_PORT=${POLYOPS_FTP_PORT:-2121}
free_port() {
    while [[ -n ${TAKEN[$NEXT_PORT]:-} ]]; do
        NEXT_PORT=$((NEXT_PORT + 1))
        ((NEXT_PORT < 65000)) || die "no free control port found"
    done
    TAKEN[$NEXT_PORT]=1
    echo "$NEXT_PORT"
}

# A thousand passive ports each: every transfer leaves its port in
# TIME_WAIT for a minute, and the kernel checks each of those at the next
# bind of that port. Over 100 ports, the tests' hundred thousand transfers
# made vsftpd spend a sixth of its CPU time in that check.
PASV_BASE=${POLYOPS_FTP_PASV_BASE:-50000}
PASV_PORTS=1000
declare -A PORT PASV_LO PASV_HI
i=0
for name in "${SERVERS[@]}"; do
    PORT[$name]=$(free_port)
    NEXT_PORT=$((PORT[$name] + 1))
    PASV_LO[$name]=$((PASV_BASE + PASV_PORTS * i))
    PASV_HI[$name]=$((PASV_BASE + PASV_PORTS * (i + 1) - 1))
    i=$((i + 1))
done

# ---------------------------------------------------------------- secrets

random_password() { openssl rand -hex 16; }
declare -A PASS_RW PASS_RO
for name in "${SERVERS[@]}"; do
    PASS_RW[$name]=$(random_password)
    PASS_RO[$name]=$(random_password)
done

# ---------------------------------------------------------------- users

# vsftpd authenticates system users through PAM, which wants a shell listed
# in /etc/shells and a home that exists. Both vsftpd instances share the
# users; local_root in each instance's config picks its FTP root.
ensure_system_user() {
    local u=$1 home=$2
    if id "$u" >/dev/null 2>&1; then
        usermod -d "$home" -s /bin/bash "$u" >/dev/null
    else
        useradd -M -d "$home" -s /bin/bash "$u"
    fi
}
grep -qx /bin/bash /etc/shells || echo /bin/bash >>/etc/shells
ensure_system_user "$RW_USER" "$DIR/vsftpd/root"
ensure_system_user "$RO_USER" "$DIR/vsftpd/root"
# One system password each, shared by the two vsftpd instances.
PASS_RW[vsftpd-tls]=${PASS_RW[vsftpd]}
PASS_RO[vsftpd-tls]=${PASS_RO[vsftpd]}
# Hashed with SHA-512 at its fewest rounds, not the system's default
# (yescrypt on Debian, built to cost tens of milliseconds of CPU): vsftpd
# checks the password at every login, and the tests log in thousands of
# times. The passwords are random, for these loopback servers alone.
printf '%s:%s\n%s:%s\n' "$RW_USER" "${PASS_RW[vsftpd]}" "$RO_USER" "${PASS_RO[vsftpd]}" |
    chpasswd -c SHA512 -s 1000
usermod -U "$RW_USER" >/dev/null 2>&1 || true
usermod -U "$RO_USER" >/dev/null 2>&1 || true
RW_UID=$(id -u "$RW_USER")
RW_GID=$(id -g "$RW_USER")
RO_UID=$(id -u "$RO_USER")
RO_GID=$(id -g "$RO_USER")

for name in "${SERVERS[@]}"; do
    chown "$RW_UID:$RW_GID" "$DIR/$name/root"
    chmod 755 "$DIR/$name/root"
    runuser -u "$RW_USER" -- test -w "$DIR/$name/root" -a -x "$DIR/$name/root" ||
        die "$name: $RW_USER cannot write $DIR/$name/root (is a parent of $DIR closed to other users?)"
    runuser -u "$RO_USER" -- test -r "$DIR/$name/root" -a -x "$DIR/$name/root" ||
        die "$name: $RO_USER cannot read $DIR/$name/root (is a parent of $DIR closed to other users?)"
done

# ---------------------------------------------------------------- TLS

# rustls takes neither a self-signed CA as the server's own certificate
# (CaUsedAsEndEntity) nor a certificate without subjectAltName: make a CA and
# a leaf it signs.
make_certs() {
    local d=$DIR/tls
    mkdir -p "$d"
    chmod 700 "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -sha256 \
        -keyout "$d/ca.key" -out "$d/ca.pem" -subj "/CN=polyops test CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -sha256 \
        -keyout "$d/server.key" -out "$d/server.csr" -subj "/CN=localhost" 2>/dev/null
    cat >"$d/server.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
EOF
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
        -CAcreateserial -days 30 -sha256 -extfile "$d/server.ext" \
        -out "$d/server.pem" 2>/dev/null
    openssl verify -CAfile "$d/ca.pem" "$d/server.pem" >/dev/null ||
        die "vsftpd-tls: the generated server certificate does not verify"
    chmod 600 "$d"/*.key
    cp "$d/ca.pem" "$DIR/ca.pem"
    chmod 644 "$DIR/ca.pem"
}
make_certs

# ---------------------------------------------------------------- vsftpd

mkdir -p /var/run/vsftpd/empty

write_vsftpd_conf() {
    local name=$1 d=$DIR/$1
    mkdir -p "$d/users"
    # Per-user overrides: the read-only user may log in, list and read only.
    printf 'write_enable=NO\n' >"$d/users/$RO_USER"
    cat >"$d/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=$ADDR
listen_port=${PORT[$name]}
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
local_root=$d/root
chroot_local_user=YES
allow_writeable_chroot=YES
user_config_dir=$d/users
pasv_enable=YES
pasv_address=$ADDR
pasv_min_port=${PASV_LO[$name]}
pasv_max_port=${PASV_HI[$name]}
port_enable=NO
pam_service_name=vsftpd
secure_chroot_dir=/var/run/vsftpd/empty
seccomp_sandbox=NO
max_clients=0
max_per_ip=0
dirmessage_enable=NO
use_localtime=NO
xferlog_enable=YES
xferlog_std_format=NO
log_ftp_protocol=YES
vsftpd_log_file=$d/server.log
EOF
    if [[ $name == vsftpd-tls ]]; then
        cat >>"$d/vsftpd.conf" <<EOF
ssl_enable=YES
rsa_cert_file=$DIR/tls/server.pem
rsa_private_key_file=$DIR/tls/server.key
force_local_logins_ssl=YES
force_local_data_ssl=YES
allow_anon_ssl=NO
ssl_tlsv1=YES
ssl_sslv2=NO
ssl_sslv3=NO
ssl_ciphers=HIGH
ssl_request_cert=NO
require_ssl_reuse=NO
EOF
    fi
    chown -R root:root "$d/users" "$d/vsftpd.conf"
    chmod 600 "$d/vsftpd.conf"
    chmod 644 "$d/users/$RO_USER"
}

# ---------------------------------------------------------------- proftpd

write_proftpd_conf() {
    local d=$DIR/proftpd
    {
        printf '%s:%s:%s:%s::%s:/bin/false\n' "$RW_USER" \
            "$(openssl passwd -6 "${PASS_RW[proftpd]}")" "$RW_UID" "$RW_GID" "$d/root"
        printf '%s:%s:%s:%s::%s:/bin/false\n' "$RO_USER" \
            "$(openssl passwd -6 "${PASS_RO[proftpd]}")" "$RO_UID" "$RO_GID" "$d/root"
    } >"$d/passwd"
    {
        printf '%s:x:%s:%s\n' "$RW_USER" "$RW_GID" "$RW_USER"
        [[ $RO_GID != "$RW_GID" ]] && printf '%s:x:%s:%s\n' "$RO_USER" "$RO_GID" "$RO_USER"
        true
    } >"$d/group"
    chmod 600 "$d/passwd" "$d/group"
    cat >"$d/proftpd.conf" <<EOF
ServerName "polyops test proftpd"
ServerType standalone
Port ${PORT[proftpd]}
DefaultAddress $ADDR
SocketBindTight on
UseIPv6 off
User nobody
Group nogroup
Umask 022
PassivePorts ${PASV_LO[proftpd]} ${PASV_HI[proftpd]}
MasqueradeAddress $ADDR
MaxInstances 50
PidFile $d/proftpd.pid
ScoreboardFile $d/proftpd.scoreboard
DelayTable none
WtmpLog off
TransferLog none
SystemLog $d/server.log
UseReverseDNS off
AuthOrder mod_auth_file.c
AuthUserFile $d/passwd
AuthGroupFile $d/group
RequireValidShell off
UseFtpUsers off
DefaultRoot ~
ModulePath $DIR/proftpd-pkg/usr/lib/proftpd
LoadModule mod_digest.c
DigestEngine on
DigestAlgorithms all
<IfModule mod_ident.c>
  IdentLookups off
</IfModule>
<Directory />
  AllowOverwrite on
  # The read-only user may log in, list and read; nothing that changes a file.
  <Limit WRITE RNFR SITE_CHMOD SITE_UTIME MFMT MFF>
    DenyUser $RO_USER
  </Limit>
</Directory>
EOF
    chmod 600 "$d/proftpd.conf"
    "$DIR/proftpd-pkg/usr/sbin/proftpd" -t -c "$d/proftpd.conf" >"$d/configtest.log" 2>&1 || {
        cat "$d/configtest.log" >&2
        die "proftpd: its configuration does not pass proftpd -t"
    }
}

# ---------------------------------------------------------------- pure-ftpd

# Virtual users in a PureDB; the read-only user has its own uid, so it can
# read the read-write user's files (644, folders 755) but change none.
# SHA-512 crypt hashes: pure-pw's own (argon2) make each login take ~3 s.
write_pureftpd_conf() {
    local d=$DIR/pure-ftpd
    {
        printf '%s:%s:%s:%s::%s/./::::::::::::\n' "$RW_USER" \
            "$(openssl passwd -6 "${PASS_RW[pure-ftpd]}")" "$RW_UID" "$RW_GID" "$d/root"
        printf '%s:%s:%s:%s::%s/./::::::::::::\n' "$RO_USER" \
            "$(openssl passwd -6 "${PASS_RO[pure-ftpd]}")" "$RO_UID" "$RO_GID" "$d/root"
    } >"$d/passwd"
    chmod 600 "$d/passwd"
    rm -f "$d/pure.pdb"
    "$DIR/pure-ftpd-pkg/usr/bin/pure-pw" mkdb "$d/pure.pdb" -f "$d/passwd" >/dev/null ||
        die "pure-ftpd: pure-pw mkdb failed"
}

# ---------------------------------------------------------------- starting

# Start NAME detached in its own session (process group == its pid).
launch() {
    local name=$1
    shift
    : >"$DIR/$name/server.out"
    setsid "$@" </dev/null >>"$DIR/$name/server.out" 2>&1 &
    echo $! >"$DIR/$name/server.pid"
}

# Wait up to ~10 s for NAME's 220 banner on its port.
wait_banner() {
    local name=$1 port=${PORT[$1]} pid line i
    pid=$(<"$DIR/$name/server.pid")
    for ((i = 0; i < 100; i++)); do
        if ! pid_alive "$pid"; then
            break
        fi
        if { exec 3<>"/dev/tcp/$ADDR/$port"; } 2>/dev/null; then
            line=
            read -r -t 2 line <&3 || true
            exec 3<&- 3>&-
            if [[ $line == 220* ]]; then
                return 0
            fi
        fi
        sleep 0.1
    done
    say "$name did not answer with a 220 banner on $ADDR:$port"
    if pid_alive "$pid"; then
        say "$name (pid $pid) is running but silent"
    else
        wait "$pid" 2>/dev/null && rc=0 || rc=$?
        say "$name exited (status ${rc:-?})"
        [[ $name == vsftpd* && ${rc:-} == 2 ]] &&
            say "(vsftpd exits 2 without a word on an option it does not know: see $DIR/$name/vsftpd.conf)"
    fi
    local f
    for f in "$DIR/$name/server.out" "$DIR/$name/server.log"; do
        if [[ -s $f ]]; then
            say "--- tail of $f"
            tail -n 20 "$f" >&2
        fi
    done
    return 1
}

STARTED_OK=
cleanup_on_failure() {
    if [[ -z $STARTED_OK ]]; then
        stop_all
        lock_system_users
    fi
}
trap cleanup_on_failure EXIT

write_vsftpd_conf vsftpd
write_vsftpd_conf vsftpd-tls
write_proftpd_conf
write_pureftpd_conf

launch vsftpd /usr/sbin/vsftpd "$DIR/vsftpd/vsftpd.conf"
launch vsftpd-tls /usr/sbin/vsftpd "$DIR/vsftpd-tls/vsftpd.conf"
launch proftpd "$DIR/proftpd-pkg/usr/sbin/proftpd" -n -c "$DIR/proftpd/proftpd.conf"
# -E: no anonymous; -A: chroot everyone; -H: no reverse DNS; -P: the address
# in PASV replies.
launch pure-ftpd "$DIR/pure-ftpd-pkg/usr/sbin/pure-ftpd" -S "$ADDR,${PORT[pure-ftpd]}" \
    -l "puredb:$DIR/pure-ftpd/pure.pdb" -E -A -H \
    -p "${PASV_LO[pure-ftpd]}:${PASV_HI[pure-ftpd]}" -P "$ADDR"

failed=()
for name in "${SERVERS[@]}"; do
    wait_banner "$name" || failed+=("$name")
done
[[ ${#failed[@]} -eq 0 ]] || die "FTP server(s) did not start: ${failed[*]}"

# ---------------------------------------------------------------- servers.json

json=$DIR/servers.json
umask_old=$(umask)
umask 077
{
    echo '['
    sep=
    for name in "${SERVERS[@]}"; do
        scheme=ftp
        ca=null
        if [[ $name == vsftpd-tls ]]; then
            scheme=ftps
            ca=$DIR/ca.pem
        fi
        printf '%s' "$sep"
        jq -n --arg name "$name" \
            --arg url "$scheme://$ADDR:${PORT[$name]}/" \
            --arg root "$DIR/$name/root" \
            --arg user "$RW_USER" --arg password "${PASS_RW[$name]}" \
            --arg ro_user "$RO_USER" --arg ro_password "${PASS_RO[$name]}" \
            --arg ca "$ca" \
            '{name: $name, url: $url, root: $root, user: $user, password: $password,
              ro_user: $ro_user, ro_password: $ro_password,
              ca_file: (if $ca == "null" then null else $ca end)}'
        sep=','
    done
    echo ']'
} >"$json.tmp"
jq . "$json.tmp" >"$json.tmp2"
chmod 600 "$json.tmp2"
mv "$json.tmp2" "$json"
rm -f "$json.tmp"
umask "$umask_old"
STARTED_OK=1

T1=$(date +%s.%N)
for name in "${SERVERS[@]}"; do
    say "$name up on $ADDR:${PORT[$name]} (passive ${PASV_LO[$name]}-${PASV_HI[$name]}), root $DIR/$name/root"
done
say "$(awk -v a="$T0" -v b="$T_INSTALLED" -v c="$T1" \
    'BEGIN { printf "started in %.1f s (%.1f s of it checking/installing packages)", c - a, b - a }')"
say "wrote $json"
