# Sourced by run.sh and ci.sh: a fresh Debian 12 guest booted with systemd as PID 1.
#
# The guest is debootstrap'ed once (the tarball is kept in $WORK) and unpacked anew at every boot. It
# boots under systemd-nspawn, shares the host's network and sees this repository read-only at
# /srv/contingencia. Needs root. Defines: say, fail, guest_boot NAME, guest 'commands'.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
WORK=${WORK:-/var/tmp/contingencia-fresh-debian}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fail() { echo "FALLÓ: $*" >&2; exit 1; }

guest_boot() {  # guest_boot NAME: unpack, boot and wait until systemd says the guest is up
    local name=$1 dir="$WORK/$1"
    [ "$(id -u)" = 0 ] || fail "hace falta root (debootstrap, systemd-nspawn)"
    command -v debootstrap >/dev/null && command -v systemd-nspawn >/dev/null \
        || DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap systemd-container >/dev/null
    mkdir -p "$WORK"
    if [ ! -f "$WORK/bookworm.tar" ]; then
        say "debootstrap bookworm (once; kept in $WORK/bookworm.tar)"
        rm -rf "$WORK/base"
        debootstrap --include=systemd,systemd-sysv,dbus,ca-certificates bookworm "$WORK/base" \
            http://deb.debian.org/debian >"$WORK/debootstrap.log"
        tar -C "$WORK/base" -cf "$WORK/bookworm.tar" . && rm -rf "$WORK/base"
    fi
    rm -rf "$dir" && mkdir -p "$dir/root" && tar -C "$dir/root" -xf "$WORK/bookworm.tar"
    echo "$name" >"$dir/root/etc/hostname"
    # This workplace inspects TLS with its own authority; a real server needs nothing of the kind.
    cp /usr/local/share/ca-certificates/*.crt "$dir/root/usr/local/share/ca-certificates/" 2>/dev/null || true

    # A git worktree's .git names a directory of the main checkout: the guest's "git clone" needs it too.
    local binds=(--bind-ro="$ROOT:/srv/contingencia") common
    common=$(git -C "$ROOT" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
    case "$common" in "" | "$ROOT"/*) ;; *) binds+=(--bind-ro="$common") ;; esac

    say "boot the guest with systemd"
    setsid systemd-nspawn -D "$dir/root" -b --register=no --keep-unit --console=passive --machine "$name" \
        "${binds[@]}" >"$dir/boot.log" 2>&1 </dev/null &
    NSPAWN=$!
    trap guest_cleanup EXIT
    for _ in $(seq 60); do LEADER=$(pgrep -P "$NSPAWN" -x systemd || true); [ -n "$LEADER" ] && break; sleep 0.5; done
    [ -n "${LEADER:-}" ] || fail "systemd-nspawn no arrancó: $(cat "$dir/boot.log")"
    for _ in $(seq 60); do
        case "$(guest 'systemctl is-system-running' 2>/dev/null || true)" in running|degraded) break;; esac
        sleep 1
    done
    guest 'echo "PID 1: $(cat /proc/1/comm), $(systemctl is-system-running), Debian $(cat /etc/debian_version)"'
    guest 'update-ca-certificates >/dev/null 2>&1 || true'
}

guest() {  # a root shell in the guest, with a clean environment
    nsenter -t "$LEADER" -a env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive bash -euo pipefail -c "$1"
}

HOST_PIDS=()  # background processes on the host, stopped with the guest
guest_cleanup() {
    [ -n "${LEADER:-}" ] && kill -s RTMIN+4 "$LEADER" 2>/dev/null || true  # systemd: power off
    for _ in $(seq 30); do kill -0 "${NSPAWN:-0}" 2>/dev/null || break; sleep 1; done
    kill "${NSPAWN:-0}" "${HOST_PIDS[@]}" 2>/dev/null || true
}
