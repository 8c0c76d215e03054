#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, when missing: chromium (browser tests;
# Playwright cannot download its own browsers here), an emoji font, nginx (the deployment
# tests run the shipped nginx configuration), openssl (their self-signed certificate) and the
# PostgreSQL server (the store's tests also run on a private PostgreSQL cluster), and a C compiler
# (tests/clock-ahead.sh builds the library that moves the clock a year ahead).
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || missing+=(fonts-noto-color-emoji)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing+=(nginx)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
# Playwright's bundled node needs libatomic, which a minimal Debian 12 lacks.
ldconfig -p 2>/dev/null | grep -q "libatomic.so.1 " || missing+=(libatomic1)
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "Instalando ${missing[*]} con apt-get..."
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts nginx on port 80 and a PostgreSQL cluster on 5432 after installing them; the tests
# run their own instances.
{ $sudo systemctl disable --now nginx 2>/dev/null || $sudo service nginx stop 2>/dev/null || $sudo nginx -s stop 2>/dev/null; } || true
{ $sudo systemctl disable --now postgresql 2>/dev/null || $sudo service postgresql stop 2>/dev/null; } || true
