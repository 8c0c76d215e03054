#!/bin/bash
# Runs the README's deployment section on a fresh Debian 12 booted with systemd, then signs in as a
# supervisor over HTTPS. As root, on a Debian host; about a minute once the guest tarball exists.
# Not part of the test suite.
#
#   bash tests/deploy/fresh_debian/run.sh          # WORK=/var/tmp/contingencia-fresh-debian by default
#
# The guest (tests/deploy/fresh_debian/guest.sh) shares the host's network, so ports 80, 443 and 8501 must
# be free, and sees this repository at /srv/contingencia, which is the README's $REPO here. A cucu
# simulator and an OIDC provider run on the host: what the operator's "edit" of step 3 points to.
set -euo pipefail
source "$(dirname "$0")/guest.sh"

HOST=contingencia.test
SIM_PORT=${SIM_PORT:-18765}
IDP_PORT=${IDP_PORT:-19400}
API_KEY=sk_live_fresh_debian_$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
BASIC_USER=ana BASIC_PASSWORD="Clave de Ana $(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')"
PY="$ROOT/.venv/bin/python"
SUPERVISOR='{"sub":"carla","email":"carla.flores@empresa.bo","email_verified":true,"name":"Carla Flores","realm_access":{"roles":["contingencia-supervisor"]}}'
VIEWER='{"sub":"luis","email":"luis.mamani@empresa.bo","email_verified":true,"name":"Luis Mamani","realm_access":{"roles":["contingencia-lectura"]}}'

[ -x "$PY" ] || fail "falta $PY: instale primero el entorno de pruebas (README, Tests)"
for port in 80 443 8501 "$SIM_PORT" "$IDP_PORT"; do  # the guest shares this network
    ! ss -Hltn "sport = :$port" | grep -q . || fail "el puerto $port está ocupado"
done

guest_boot fresh

say "on the host: a cucu simulator on :$SIM_PORT and an OIDC provider on :$IDP_PORT"
"$PY" -m cucu.simulator --host 127.0.0.1 --port "$SIM_PORT" --api-key "$API_KEY" >"$WORK/simulator.log" 2>&1 &
HOST_PIDS+=($!)
"$ROOT/.venv/bin/oidc-provider-mock" -H 127.0.0.1 -p "$IDP_PORT" --user-claims "$SUPERVISOR" --user-claims "$VIEWER" >"$WORK/idp.log" 2>&1 &
HOST_PIDS+=($!)
curl -s --retry 30 --retry-connrefused --retry-delay 1 -o /dev/null "http://127.0.0.1:$IDP_PORT/.well-known/openid-configuration"

operator_edits() {  # what an operator types into the files of step 3
    guest "
    sed -i -e 's|^CUCU_BASE_URL=.*|CUCU_BASE_URL=http://127.0.0.1:$SIM_PORT|' -e 's|^CUCU_API_KEY=.*|CUCU_API_KEY=$API_KEY|' /etc/contingencia/contingencia.env
    install -m 0640 -g contingencia /opt/contingencia/app/cucu/demo_inventory.toml /etc/contingencia/inventario.toml
    sed -i -e 's|^client_secret = .*|client_secret = \"fresh-debian\"|' \
        -e 's|^server_metadata_url = .*|server_metadata_url = \"http://127.0.0.1:$IDP_PORT/.well-known/openid-configuration\"|' \
        /opt/contingencia/app/.streamlit/secrets.toml
    "
}

collector_polls_before_any_visit() {
    guest '
    pid=$(systemctl show -p MainPID --value contingencia-colector)
    for _ in $(seq 60); do
        holder=$(sqlite3 /var/lib/contingencia/contingencia.db "select holder from leases where name = '"'collector'"'" 2>/dev/null || true)
        checks=$(sqlite3 /var/lib/contingencia/contingencia.db "select count(*) from connectivity_checks" 2>/dev/null || echo 0)
        pos=$(sqlite3 /var/lib/contingencia/contingencia.db "select count(*) from pos_status" 2>/dev/null || echo 0)
        case "$holder" in *":$pid:"*) [ "$checks" -gt 0 ] && [ "$pos" -gt 0 ] && break;; esac
        sleep 1
    done
    echo "collector service (pid $pid) holds the lease: $holder; $checks check(s), $pos POS known, no page opened yet"
    case "$holder" in *":$pid:"*) [ "$checks" -gt 0 ] && [ "$pos" -gt 0 ];; *) false;; esac
    '
}

"$PY" "$ROOT/tests/deploy/fresh_debian/readme_steps.py" "$ROOT/README.md" "$WORK/steps" >"$WORK/steps.txt"
grep -qx 'HOST=.*' <(grep -o '^HOST=[^ ]*' "$WORK/steps/step-0.sh") && grep -q '^REPO=' "$WORK/steps/step-0.sh" \
    || fail "step 0 of the README no longer sets HOST and REPO"
PRELUDE="HOST=$HOST; REPO=/srv/contingencia"
while IFS=$'\t' read -r number title; do
    [ "$number" = 0 ] && continue
    if [ ! -f "$WORK/steps/step-$number.sh" ]; then say "step $number: $title (nothing to run)"; continue; fi
    say "step $number: $title"
    sed 's/^/    /' "$WORK/steps/step-$number.sh"
    # What the operator types at the step's prompts (step 7: a user name and a password, not echoed).
    typed=""; [ "$number" != 7 ] || typed=$(printf '%s\n%s' "$BASIC_USER" "$BASIC_PASSWORD")
    guest "$PRELUDE
$(cat "$WORK/steps/step-$number.sh")" <<<"$typed" || fail "step $number of the README"
    case "$number" in
        3) say "step 3, the operator's edits"; operator_edits
           guest 'test "$(stat -c "%a %U %G" /etc/nginx/contingencia-secret.conf)" = "600 root root"
               ! grep -q reemplace /etc/nginx/contingencia-secret.conf && grep -Eq "default \"[0-9a-f]{64}\";" /etc/nginx/contingencia-secret.conf' \
               && echo "nginx's proxy secret: fresh, root only" || fail "step 3 left nginx's proxy secret unusable" ;;
        7) guest 'stat -c "%a %U %G" /etc/nginx/contingencia.htpasswd | grep -qx "640 root www-data"
               python3 -c "import bcrypt, sys; user, password = sys.stdin.read().splitlines()[:2]; name, hashed = open(sys.argv[1]).read().strip().split(sys.argv[2], 1); sys.exit(not (name == user and bcrypt.checkpw(password.encode(), hashed.encode())))" /etc/nginx/contingencia.htpasswd :' \
               < <(printf '%s\n%s\n' "$BASIC_USER" "$BASIC_PASSWORD") \
               && echo "htpasswd: 0640 root:www-data, the typed password checks" || fail "step 7's password file" ;;
        4) say "the collector service polls from boot"; collector_polls_before_any_visit || fail "the collector service did not poll"
           say "both services run in their sandbox"
           guest 'for unit in contingencia-colector contingencia@8501; do
               systemd-analyze security --no-pager "$unit" | tail -1
               systemd-analyze security --no-pager --threshold=25 "$unit" >/dev/null
               test "$(systemctl show -p UMask,PrivateUsers,ProtectSystem --value "$unit" | paste -sd" ")" = "0077 yes strict"
           done' || fail "a service runs without its sandbox" ;;
        6) say "the installed site's security headers, on a page and on an error"
           for path in contingencia/ no-existe; do
               headers=$(curl -sk -o /dev/null -D - --resolve "$HOST:443:127.0.0.1" "https://$HOST/$path")
               for header in "Strict-Transport-Security: max-age=31536000" "X-Frame-Options: DENY" \
                   "Content-Security-Policy: frame-ancestors 'none'" "X-Content-Type-Options: nosniff" "Referrer-Policy: same-origin"; do
                   grep -qiF "$header" <<<"$headers" || fail "https://$HOST/$path lacks $header"
               done
               echo "/$path: $(head -1 <<<"$headers" | tr -d '\r'), all five security headers"
           done
           say "Chromium on the host: a supervisor signs in at https://$HOST/contingencia/"
           "$PY" "$ROOT/tests/deploy/fresh_debian/supervisor.py" --host "$HOST" --user carla --name "Carla Flores" \
               --email carla.flores@empresa.bo --shots "$ROOT/screenshots/fresh-debian" || fail "the supervisor's visit"
           guest 'pid=$(systemctl show -p MainPID --value contingencia-colector)
               sqlite3 /var/lib/contingencia/contingencia.db "select holder from leases" | grep -q ":$pid:"
               journalctl -u contingencia@8501 --no-pager | grep -q "colector en espera (otro proceso consulta cucu)"
               ! journalctl -u contingencia@8501 --no-pager | grep -q -e "colector activo" -e "sin acceso a la base"' \
               && echo "the web process's collector stands by; the service still holds the lease" || fail "the web process also polls" ;;
    esac
done <"$WORK/steps.txt"

say "after steps 8 and 9: services back, the backup holds the supervisor's actions"
guest 'systemctl is-active contingencia-colector contingencia@8501 nginx
curl -s --retry 30 --retry-connrefused --retry-delay 1 localhost:8501/contingencia/_stcore/health; echo
n=$(sqlite3 /var/backups/contingencia/contingencia-$(date +%F).db "select count(*) from audit_log where actor = '"'carla.flores@empresa.bo'"' and outcome = '"'ok'"'")
echo "backup: $n successful action(s) by carla.flores@empresa.bo"; [ "$n" -ge 2 ]
! journalctl --no-pager -u contingencia-colector -u "contingencia@*" | grep -q Traceback' || fail "after the upgrade"
say "More than one dashboard process"
sed 's/^/    /' "$WORK/steps/second-process.sh"
guest "$PRELUDE
$(cat "$WORK/steps/second-process.sh")" || fail "the second process block of the README"
guest 'curl -s --retry 30 --retry-connrefused --retry-delay 1 localhost:8502/contingencia/_stcore/health; echo
grep -c "server 127.0.0.1:850[12];" /etc/nginx/sites-available/contingencia.conf | grep -qx 2
for i in $(seq 20); do
    curl -sk -o /dev/null -w "%{http_code}\n" --resolve "'"$HOST"':443:127.0.0.1" "https://'"$HOST"'/contingencia/_stcore/health"
done | sort | uniq -c' || fail "the second process"

echo
echo "OK: the README's deployment section, on a fresh Debian 12 under systemd, reached a signed-in supervisor over HTTPS."
