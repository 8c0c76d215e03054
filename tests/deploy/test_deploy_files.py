"""The shipped deployment files, checked as text; and nginx's own answers from the shipped sites run on
loopback with no app behind them (the e2e tests run nginx in front of the app)."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import tomllib
from collections import Counter

import pytest

from cucu.access import cookie_secret_problem, load_access, proxy_secret_problem
from tests.support.deploy import (
    DEPLOY,
    NGINX,
    SECURITY_HEADERS,
    htpasswd,
    insecure_client,
    missing_security_headers,
    nginx,
    plain_http_url,
    shown_version,
    wrong_guesses,
)
from tests.support.net import free_port

SITES = ["contingencia.conf", "contingencia-basic-auth.conf"]
needs_nginx = pytest.mark.skipif(not shutil.which(NGINX), reason="nginx not installed")


def locations(site: str) -> list[tuple[str, str]]:
    text = (DEPLOY / "nginx" / site).read_text()
    return re.findall(r"location\s+(?:=\s+)?(\S+)\s*\{(.*?)\n    \}", text, flags=re.S)


@pytest.mark.parametrize("site", ["contingencia.conf", "contingencia-basic-auth.conf"])
def test_every_location_includes_the_snippet_and_sets_the_user_header_once(site):
    proxied = [(path, body) for path, body in locations(site) if "proxy_pass" in body]
    assert proxied
    for path, body in proxied:
        assert body.count("include /etc/nginx/snippets/contingencia-proxy.conf;") == 1, path
        # Both identity headers, set by nginx in every location: a client-sent copy never passes.
        assert len(re.findall(r"proxy_set_header X-Remote-User", body)) == 1, path
        assert len(re.findall(r"proxy_set_header X-Proxy-Secret", body)) == 1, path
        if "auth_basic_user_file" not in body:
            assert 'proxy_set_header X-Remote-User "";' in body, path  # never trust the browser's
            assert 'proxy_set_header X-Proxy-Secret "";' in body, path
        else:
            assert "proxy_set_header X-Proxy-Secret $contingencia_proxy_secret;" in body, path


@pytest.mark.parametrize("site", ["contingencia.conf", "contingencia-basic-auth.conf"])
def test_security_headers_are_set_at_server_level_always_and_no_location_drops_them(site):
    tls_server = (DEPLOY / "nginx" / site).read_text().split("listen 443 ssl;", 1)[1]
    server_level = re.sub(r"\n    location[^{]*\{.*?\n    \}", "", tls_server, flags=re.S)
    for name, value in SECURITY_HEADERS.items():
        assert re.search(rf'^    add_header {name} "{re.escape(value)}" always;$', server_level, re.M | re.I), name
    # nginx's rule: a location with an add_header of its own inherits none of the server's.
    assert [path for path, body in locations(site) if "add_header" in body] == []


@pytest.mark.parametrize("site", SITES)
def test_every_server_hides_nginx_version(site):
    text = (DEPLOY / "nginx" / site).read_text()
    servers = re.split(r"^server \{", text, flags=re.M)[1:]
    assert len(servers) == 2 and all("\n    server_tokens off;" in server for server in servers)


def site_limit() -> dict[str, int]:
    """The basic-auth site's limit on password checks: rate (a second), delay and burst."""
    text = (DEPLOY / "nginx" / "contingencia-basic-auth.conf").read_text()
    zone = re.search(r"^limit_req_zone \$binary_remote_addr zone=contingencia_auth:\d+m rate=(\d+)r/s;$", text, re.M)
    limit = re.search(
        r"\n        limit_req zone=contingencia_auth burst=(\d+) delay=(\d+);\n        limit_req_status 429;\n", text
    )
    assert zone and limit, "one zone keyed on the client's address, used with a burst and a delay, answering 429"
    return {"rate": int(zone.group(1)), "burst": int(limit.group(1)), "delay": int(limit.group(2))}


def test_every_password_check_is_rate_limited_per_client_address():
    limit = site_limit()
    # A tablet's page load is about 8 checked requests (one 401 first): it goes at once, and a few more
    # tablets behind the same address wait their turn rather than get 429.
    assert limit["delay"] >= 8 and limit["burst"] >= 40
    checked = [body for _, body in locations("contingencia-basic-auth.conf") if "auth_basic_user_file" in body]
    assert len(checked) == 1 and all("limit_req zone=contingencia_auth" in body for body in checked)
    # What is open without a password: the redirect, the health check, Streamlit's script bundle (no data) and
    # the status API, which wants its own bearer token (cucu.status_service).
    unchecked = [path for path, body in locations("contingencia-basic-auth.conf") if "auth_basic_user_file" not in body]
    assert unchecked == ["/contingencia", "/contingencia/api/", "/contingencia/_stcore/health", "/contingencia/static/"]


@needs_nginx
@pytest.mark.parametrize("site", SITES)
def test_no_answer_of_either_site_shows_nginx_version(tmp_path, site):
    """nginx's own answers (the port-80 redirect, 401, 404, 502 with no app behind, 429) name no version."""
    htpasswd(tmp_path / "htpasswd", {"ana": "clave-de-ana"})
    with nginx(site, tmp_path, app_port=free_port()) as url, insecure_client() as http:
        answers = {
            "page": http.get(f"{url}/contingencia/"),  # 401 behind basic auth, else 502: no app listens
            "not found": http.get(f"{url}/no-existe"),
            "plain http": http.get(f"{plain_http_url(tmp_path)}/contingencia/"),
        }
        if "basic-auth" in site:
            answers["wrong password"] = http.get(f"{url}/contingencia/", auth=("ana", "mala"))
            guesses = wrong_guesses(f"{url}/contingencia/", "127.0.0.9")
            answers["too many"] = next(r for r in guesses if r is not None and r.status_code == 429)
    assert {what: shown_version(r) for what, r in answers.items()} == dict.fromkeys(answers)
    assert {what: r.headers.get("server") for what, r in answers.items()} == dict.fromkeys(answers, "nginx")


@needs_nginx
def test_a_burst_of_wrong_guesses_gets_429_while_the_rate_is_exceeded(tmp_path):
    """Seen: 200 concurrent wrong guesses took a real request from 0.19 s to 14.9 s, each one a bcrypt
    check in nginx's worker. Now a few are checked at once, some wait their turn at the rate, and the
    rest are answered 429 without a check; another address is checked as ever."""
    htpasswd(tmp_path / "htpasswd", {"ana": "clave-de-ana"})
    limit = site_limit()
    with nginx("contingencia-basic-auth.conf", tmp_path, app_port=free_port()) as url:
        started = time.monotonic()
        guesses = wrong_guesses(f"{url}/contingencia/", "127.0.0.7")
        elapsed = time.monotonic() - started
        with insecure_client("127.0.0.8") as other:  # another tablet, another address
            assert other.get(f"{url}/contingencia/", auth=("ana", "mala")).status_code == 401
    statuses = Counter(r.status_code if r is not None else "waiting" for r in guesses)
    assert set(statuses) <= {401, 429, "waiting"}
    checked_at_most = limit["delay"] + 1 + limit["rate"] * (elapsed + 1)  # at once, then at the rate
    assert limit["delay"] + 1 <= statuses[401] <= checked_at_most, statuses
    assert statuses[429] >= len(guesses) - limit["burst"] - 1 - limit["rate"] * (elapsed + 1), statuses
    too_many = next(r for r in guesses if r is not None and r.status_code == 429)
    assert missing_security_headers(too_many.headers) == {} and shown_version(too_many) is None


def test_the_proxy_secret_lives_outside_the_world_readable_site():
    site = (DEPLOY / "nginx" / "contingencia-basic-auth.conf").read_text()
    assert "include /etc/nginx/contingencia-secret.conf;" in site and 'default "' not in site
    example = (DEPLOY / "nginx" / "contingencia-secret.conf.example").read_text()
    assert re.search(r'^map "" \$contingencia_proxy_secret \{\n    default "reemplace";\n\}$', example, re.M)
    assert "X-Proxy-Secret" not in (DEPLOY / "nginx" / "contingencia.conf").read_text().replace('X-Proxy-Secret "";', "")


def test_the_snippet_keeps_websockets_and_long_timeouts():
    text = (DEPLOY / "nginx" / "contingencia-proxy.conf").read_text()
    for line in (
        "proxy_set_header Upgrade",
        "proxy_set_header Connection        $connection_upgrade",
        "proxy_set_header Host              $http_host",
        "proxy_read_timeout 86400s",
    ):
        assert line in text
    assert "X-Remote-User" not in text.split("# ")[-1]  # set per location, never in the shared snippet


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
@pytest.mark.parametrize(
    ("unit", "instance"),
    [
        ("contingencia@.service", "contingencia@8501.service"),
        ("contingencia-colector.service", "contingencia-colector.service"),
        ("contingencia-estado.service", "contingencia-estado.service"),
    ],
)
def test_systemd_units_verify(tmp_path, unit, instance):
    (tmp_path / unit).write_text((DEPLOY / "systemd" / unit).read_text())
    run = subprocess.run(["systemd-analyze", "verify", str(tmp_path / instance)], capture_output=True, text=True, cwd=tmp_path)
    complaints = [
        line
        for line in (run.stdout + run.stderr).splitlines()
        if line.strip() and not re.search(r"/opt/contingencia/venv/bin/\w+ is not executable", line)
    ]
    assert complaints == []  # only the virtualenv, which an operator creates, is missing here


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
@pytest.mark.parametrize(
    ("unit", "instance"),
    [
        ("contingencia@.service", "contingencia@8501.service"),
        ("contingencia-colector.service", "contingencia-colector.service"),
        ("contingencia-estado.service", "contingencia-estado.service"),
    ],
)
def test_systemd_units_are_sandboxed_to_an_exposure_of_2_5_or_lower(tmp_path, unit, instance):
    """systemd's own measure of what a compromised service could do (it was 7.3, "MEDIUM", for both)."""
    (tmp_path / instance).write_text((DEPLOY / "systemd" / unit).read_text())
    run = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--no-pager", str(tmp_path / instance)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    level = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", run.stdout)
    assert level, run.stdout + run.stderr
    assert float(level.group(1)) <= 2.5, run.stdout


def test_the_units_share_one_sandbox():
    """The same hardening in all: the collector, the status API and the web process read the same files and
    one database."""
    web, collector, status = (
        (DEPLOY / "systemd" / name).read_text().split("StateDirectory=contingencia", 1)[1].split("[Install]")[0]
        for name in ("contingencia@.service", "contingencia-colector.service", "contingencia-estado.service")
    )
    assert web == collector == status


def test_the_units_run_with_the_same_user_settings_and_database():
    web, collector, status = (
        (DEPLOY / "systemd" / name).read_text()
        for name in ("contingencia@.service", "contingencia-colector.service", "contingencia-estado.service")
    )
    for line in (
        "User=contingencia",
        "EnvironmentFile=/etc/contingencia/contingencia.env",
        "StateDirectory=contingencia",
        "WorkingDirectory=/opt/contingencia/app",
        "ProtectSystem=strict",
    ):
        assert line in web and line in collector and line in status, line


@pytest.mark.parametrize("name", ["oidc", "proxy", "off"])
def test_secrets_examples_are_valid(name):
    data = tomllib.loads((DEPLOY / "secrets" / f"{name}.secrets.toml.example").read_text())
    access = load_access(data["access"], {})
    assert access.mode == name
    if name == "oidc":
        assert data["auth"]["redirect_uri"].endswith("/contingencia/oauth2callback")
        assert "ejemplo" in (cookie_secret_problem(data["auth"]["cookie_secret"]) or "")  # step 3 must replace it
    if name == "proxy":
        # The header nginx's basic-auth site sets; a placeholder value that refuses to start until step 3 fills it.
        assert access.proxy_secret_header == "X-Proxy-Secret"
        assert "ejemplo" in (proxy_secret_problem(access.proxy_secret) or "")


def test_env_example_names_only_known_settings():
    names = {
        line.split("=", 1)[0]
        for line in (DEPLOY / "contingencia.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert names <= {
        "CUCU_BASE_URL",
        "CUCU_API_KEY",
        "CUCU_INVENTORY",
        "CUCU_DB",
        "STREAMLIT_SERVER_COOKIE_SECRET",
        "CUCU_ACCESS_MODE",
    }


def test_step_7_hashes_passwords_at_cost_10():
    """nginx checks the password on every request, in its worker: at bcrypt's default 12 a check took
    0.25 s, and the checks a burst of guesses gets at once held a worker 4 times as long as at 10."""
    import sys

    import bcrypt

    from tests.deploy.fresh_debian.readme_steps import deploy_steps

    block = next(code for n, _, code in deploy_steps((DEPLOY.parent / "README.md").read_text()) if n == 7)
    program = re.search(r"python3 -c '([^']+)'", block)
    assert program
    run = subprocess.run([sys.executable, "-c", program.group(1), "ana"], input=b"clave", capture_output=True, check=True)
    user, hashed = run.stdout.decode().strip().split(":", 1)
    assert user == "ana" and hashed.startswith("$2b$10$") and bcrypt.checkpw(b"clave", hashed.encode())
