"""The shipped deployment files, checked without running them (the e2e tests run nginx)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib

import pytest

from cucu.access import cookie_secret_problem, load_access, proxy_secret_problem
from tests.deploy_support import DEPLOY, SECURITY_HEADERS


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
    [("contingencia@.service", "contingencia@8501.service"), ("contingencia-colector.service", "contingencia-colector.service")],
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
    [("contingencia@.service", "contingencia@8501.service"), ("contingencia-colector.service", "contingencia-colector.service")],
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


def test_both_units_share_one_sandbox():
    """The same hardening in both: the collector and the web process read the same files and write one database."""
    web, collector = (
        (DEPLOY / "systemd" / name).read_text().split("StateDirectory=contingencia", 1)[1]
        for name in ("contingencia@.service", "contingencia-colector.service")
    )
    assert web.split("[Install]")[0] == collector.split("[Install]")[0]


def test_both_units_run_with_the_same_user_settings_and_database():
    web, collector = (
        (DEPLOY / "systemd" / name).read_text() for name in ("contingencia@.service", "contingencia-colector.service")
    )
    for line in (
        "User=contingencia",
        "EnvironmentFile=/etc/contingencia/contingencia.env",
        "StateDirectory=contingencia",
        "WorkingDirectory=/opt/contingencia/app",
        "ProtectSystem=strict",
    ):
        assert line in web and line in collector, line


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
