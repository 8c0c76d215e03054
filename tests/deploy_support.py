"""Run the shipped nginx site files in front of the app, in a temporary directory on loopback.

Only what an operator would change is substituted: host name, ports, certificate and
password-file paths, and the snippet's location. Everything else runs as shipped.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.browser_support import ROOT, free_port
from tests.waiting import wait_until

DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# What the README's step 3 writes into both secrets.toml ([access].proxy_secret) and nginx's secret file.
PROXY_SECRET = secrets.token_hex(32)


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def htpasswd(path: Path, users: dict[str, str]) -> None:
    import bcrypt

    path.write_text("".join(f"{u}:{bcrypt.hashpw(p.encode(), bcrypt.gensalt(rounds=6)).decode()}\n" for u, p in users.items()))


def render_secret(directory: Path, proxy_secret: str) -> Path:
    """deploy/nginx/contingencia-secret.conf.example with the secret filled in, as step 3 does."""
    text = (DEPLOY / "nginx" / "contingencia-secret.conf.example").read_text()
    assert text.count('default "reemplace";') == 1
    path = directory / "contingencia-secret.conf"
    path.write_text(text.replace('default "reemplace";', f'default "{proxy_secret}";'))
    path.chmod(0o600)
    return path


def render_site(
    site: str, directory: Path, *, app_ports: Sequence[int], https_port: int, http_port: int, proxy_secret: str = PROXY_SECRET
) -> Path:
    cert, key = self_signed_cert(directory)
    text = (DEPLOY / "nginx" / site).read_text()
    optional = ("/etc/nginx/contingencia.htpasswd", "/etc/nginx/contingencia-secret.conf")  # the basic-auth site's
    for old, new in {
        "contingencia.example.bo": "localhost",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "server 127.0.0.1:8501;": "\n    ".join(f"server 127.0.0.1:{port};" for port in app_ports),
        "/etc/ssl/contingencia/cert.pem": str(cert),
        "/etc/ssl/contingencia/key.pem": str(key),
        "/etc/nginx/snippets/contingencia-proxy.conf": str(DEPLOY / "nginx" / "contingencia-proxy.conf"),
        "/etc/nginx/contingencia.htpasswd": str(directory / "htpasswd"),
        "/etc/nginx/contingencia-secret.conf": str(render_secret(directory, proxy_secret)),
    }.items():
        assert old in text or old in optional, f"{site} no longer contains {old!r}"
        text = text.replace(old, new)
    path = directory / site
    path.write_text(text)
    return path


@contextmanager
def nginx(
    site: str,
    directory: Path,
    *,
    app_port: int | Sequence[int],
    https_port: int | None = None,
    proxy_secret: str = PROXY_SECRET,
):
    """Yield the HTTPS base URL of nginx serving ``site`` in front of 127.0.0.1:app_port (or several),
    with ``proxy_secret`` in its secret file (the basic-auth site sends it to the app).

    ``directory / "access.log"`` has one line per request: route cookie, upstream, status, request.
    """
    https_port, http_port = https_port or free_port(), free_port()
    app_ports = [app_port] if isinstance(app_port, int) else list(app_port)
    site_path = render_site(
        site, directory, app_ports=app_ports, https_port=https_port, http_port=http_port, proxy_secret=proxy_secret
    )
    temp = directory / "nginx-tmp"
    temp.mkdir(exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read files in a root-only temp dir
    conf = directory / "nginx.conf"
    conf.write_text(
        f"{user}worker_processes 1;\npid {directory}/nginx.pid;\nerror_log {directory}/error.log warn;\n"
        "events { worker_connections 256; }\n"
        "http {\n  log_format routes '$st_route $upstream_addr $status \"$request\"';\n"
        f"  access_log {directory}/access.log routes;\n"
        + "".join(f"  {kind}_temp_path {temp}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        + f"  include {site_path};\n}}\n"
    )
    test = subprocess.run([NGINX, "-t", "-c", str(conf)], capture_output=True, text=True)
    assert test.returncode == 0, test.stderr
    proc = subprocess.Popen(
        [NGINX, "-c", str(conf), "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )

    def listening() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"nginx did not start: {proc.stderr.read() if proc.stderr else ''}")
        try:
            socket.create_connection(("127.0.0.1", https_port), timeout=0.5).close()
            return True
        except OSError:
            return False

    try:
        wait_until(listening, 10, what="nginx to listen", poll_s=0.1)
        yield f"https://localhost:{https_port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def insecure_client() -> httpx.Client:
    return httpx.Client(verify=False, timeout=10, follow_redirects=False)
