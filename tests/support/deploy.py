"""Run the shipped nginx site files in front of the app, in a temporary directory on loopback.

Only what an operator would change is substituted: host name, ports, certificate and
password-file paths, and the snippet's location. Everything else runs as shipped.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.browser import ROOT
from tests.support.net import free_port
from tests.support.waiting import wait_until

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
    site: str,
    directory: Path,
    *,
    app_ports: Sequence[int],
    https_port: int,
    http_port: int,
    proxy_secret: str = PROXY_SECRET,
    status_port: int = 8601,
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
        "http://127.0.0.1:8601/api/": f"http://127.0.0.1:{status_port}/api/",  # cucu.status_service
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
    status_port: int = 8601,
):
    """Yield the HTTPS base URL of nginx serving ``site`` in front of 127.0.0.1:app_port (or several),
    with ``proxy_secret`` in its secret file (the basic-auth site sends it to the app).

    ``directory / "access.log"`` has one line per request: route cookie, upstream, status, request, client address.
    """
    https_port, http_port = https_port or free_port(), free_port()
    app_ports = [app_port] if isinstance(app_port, int) else list(app_port)
    site_path = render_site(
        site,
        directory,
        app_ports=app_ports,
        https_port=https_port,
        http_port=http_port,
        proxy_secret=proxy_secret,
        status_port=status_port,
    )
    temp = directory / "nginx-tmp"
    temp.mkdir(exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read files in a root-only temp dir
    conf = directory / "nginx.conf"
    conf.write_text(
        f"{user}worker_processes 1;\npid {directory}/nginx.pid;\nerror_log {directory}/error.log warn;\n"
        "events { worker_connections 256; }\n"
        "http {\n  log_format routes '$st_route $upstream_addr $status \"$request\" $remote_addr';\n"
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


def insecure_client(source: str | None = None) -> httpx.Client:
    """A client that trusts the test's self-signed certificate; ``source`` a loopback address it
    connects from (127.0.0.2...), for a client nginx's per-address limit tells from this machine's others."""
    if source is None:
        return httpx.Client(verify=False, timeout=10, follow_redirects=False)
    transport = httpx.HTTPTransport(verify=False, local_address=source)
    return httpx.Client(transport=transport, timeout=10, follow_redirects=False)


def wrong_guesses(url: str, source: str, count: int = 200) -> list[httpx.Response | None]:
    """``count`` concurrent requests to ``url`` with wrong passwords from ``source``: each one's answer, or
    None for one still waiting its turn in nginx's limit after 3 s (the site delays some before refusing)."""
    from concurrent.futures import ThreadPoolExecutor

    def guess(http: httpx.Client, n: int) -> httpx.Response | None:
        try:
            return http.get(url, auth=("ana", f"mala-{n}"), timeout=3)
        except httpx.TimeoutException:
            return None

    with insecure_client(source) as http, ThreadPoolExecutor(50) as pool:
        return list(pool.map(lambda n: guess(http, n), range(count)))


def plain_http_url(directory: Path) -> str:
    """The base URL of the site's port-80 server (it redirects to HTTPS), as ``nginx()`` rendered it."""
    site = next(path for path in directory.glob("contingencia*.conf") if "secret" not in path.name)
    port = re.search(r"listen 127\.0\.0\.1:(\d+);", site.read_text())
    assert port, site
    return f"http://localhost:{port.group(1)}"


def shown_version(response: httpx.Response) -> str | None:
    """nginx's version where an answer shows it (the Server header, an error page), else None."""
    found = re.search(r"nginx/\d[\d.]*", response.headers.get("server", "") + " " + response.text)
    return found.group(0) if found else None


# What both shipped sites send with every answer (issue 13: the deployment).
SECURITY_HEADERS = {
    "strict-transport-security": "max-age=31536000",
    "x-frame-options": "DENY",
    "content-security-policy": "frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def missing_security_headers(headers: Mapping[str, str]) -> dict[str, str | None]:
    """Each security header that is absent or not exactly as shipped (sent twice reads "v, v"): name -> what came."""
    got = {name.lower(): value for name, value in headers.items()}
    return {name: got.get(name) for name, value in SECURITY_HEADERS.items() if got.get(name) != value}


def answers_of_every_kind(http: httpx.Client, site: str, auth: tuple[str, str] | None = None) -> dict[str, httpx.Response]:
    """One answer from each kind of place in the site: the page, a static asset of it, the health
    check, the sub-path's redirect, a path outside /contingencia/ (nginx's own 404) and, behind basic
    auth, a missing and a wrong password (401)."""
    page = http.get(f"{site}/contingencia/", auth=auth or httpx.USE_CLIENT_DEFAULT)
    asset = re.search(r'(?:src|href)="\.?/?(static/[^"]+\.(?:js|css))"', page.text)
    assert asset, page.text[:500]
    answers = {
        "page": page,
        "static asset": http.get(f"{site}/contingencia/{asset.group(1)}", auth=auth or httpx.USE_CLIENT_DEFAULT),
        "health": http.get(f"{site}/contingencia/_stcore/health"),
        "redirect": http.get(f"{site}/contingencia"),
        "not found": http.get(f"{site}/no-existe"),
    }
    if auth:
        answers["no password"] = http.get(f"{site}/contingencia/")
        answers["wrong password"] = http.get(f"{site}/contingencia/", auth=(auth[0], auth[1] + "-mala"))
    return answers


@contextmanager
def security_headers_checked(page, site: str) -> Iterator[None]:
    """Around a browser's visit: every answer from ``site`` that reached the browser (documents,
    scripts, styles, fonts, media, downloads, redirects) carried the security headers."""
    responses: list = []
    page.on("response", lambda response: responses.append(response) if response.url.startswith(site) else None)
    yield
    missing = {f"{r.status} {r.url}": m for r in responses if (m := missing_security_headers(r.all_headers()))}
    assert len(responses) > 5 and missing == {}, missing
