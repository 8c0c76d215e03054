"""Deployment, OIDC mode, end to end over HTTPS: nginx (shipped site) -> Streamlit on /contingencia/,
signing in at a local OpenID Connect provider (oidc-provider-mock) with a supervisor and a viewer.

The supervisor signs in, starts and ends an event on the simulator and finds their name in
Bitácora; the viewer sees every page and no action control; a reload keeps both signed in;
signing out works. People whose role claim says supervisor but whom [access.users] lists as "none"
(by an e-mail the provider does not say is verified, by preferred_username, by subject) get the
"sin acceso" page on every URL.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Required, TypedDict

import pytest
from playwright.sync_api import expect

from tests.support.browser import (
    TABLET,
    bitacora_cells,
    end_first_branch,
    session_menu,
    start_one_event,
    streamlit_server,
    wait_for_app,
)
from tests.support.deploy import (
    answers_of_every_kind,
    insecure_client,
    missing_security_headers,
    nginx,
    security_headers_checked,
    shown_version,
)
from tests.support.net import free_port
from tests.support.waiting import served

pytestmark = pytest.mark.browser


class Claims(TypedDict, total=False):
    """What oidc-provider-mock signs in as (``--user-claims``)."""

    sub: Required[str]
    name: Required[str]
    email: str
    email_verified: bool
    preferred_username: str
    roles: list[str]


ANA: Claims = {
    "sub": "ana",
    "email": "ana@empresa.bo",
    "email_verified": True,
    "name": "Ana Quispe",
    "roles": ["contingencia-supervisor"],
}
BETO: Claims = {
    "sub": "beto",
    "email": "beto@empresa.bo",
    "email_verified": True,
    "name": "Beto Mamani",
    "roles": ["contingencia-lectura"],
}
# Revoked in [access.users], each under another identifier; each one's role claim says supervisor.
SUPERVISOR_CLAIM = ["contingencia-supervisor"]
ELENA: Claims = {
    "sub": "u-3104",
    "email": "elena@empresa.bo",
    "name": "Elena Choque",
    "roles": SUPERVISOR_CLAIM,
}  # no email_verified
PABLO: Claims = {"sub": "u-5521", "preferred_username": "pablo.r", "name": "Pablo Rojas", "roles": SUPERVISOR_CLAIM}
RUTH: Claims = {  # her verified e-mail is granted supervisor, her subject is revoked: revocation wins
    "sub": "u-8830",
    "email": "ruth@empresa.bo",
    "email_verified": True,
    "name": "Ruth Flores",
    "roles": SUPERVISOR_CLAIM,
}


@pytest.fixture(scope="module")
def provider():
    port = free_port()
    cli = Path(sys.executable).with_name("oidc-provider-mock")
    cmd = [str(cli), "-H", "127.0.0.1", "-p", str(port)]
    for who in (ANA, BETO, ELENA, PABLO, RUTH):
        cmd += ["--user-claims", json.dumps(who)]
    url = f"http://127.0.0.1:{port}"
    with served(cmd, f"{url}/.well-known/openid-configuration", "oidc-provider-mock", timeout_s=20):
        yield url


@pytest.fixture(scope="module")
def site(provider, tmp_path_factory):
    directory = tmp_path_factory.mktemp("oidc")
    app_port, https_port = free_port(), free_port()
    secrets = directory / "secrets.toml"
    secrets.write_text(f"""
[auth]
redirect_uri = "https://localhost:{https_port}/contingencia/oauth2callback"
cookie_secret = "{"c" * 64}"
client_id = "contingencia"
client_secret = "secreto-de-prueba"
server_metadata_url = "{provider}/.well-known/openid-configuration"
client_kwargs = {{ scope = "openid profile email" }}

[access]
mode = "oidc"
role_claim = "roles"

[access.role_map]
"contingencia-supervisor" = "supervisor"
"contingencia-lectura" = "viewer"

[access.users]
"elena@empresa.bo" = "none"
"pablo.r" = "none"
"sub:u-8830" = "none"
"ruth@empresa.bo" = "supervisor"
""")
    args = ("--server.baseUrlPath", "contingencia", "--secrets.files", str(secrets))
    with (
        streamlit_server(args=args, base_path="/contingencia", port=app_port),
        nginx("contingencia.conf", directory, app_port=app_port, https_port=https_port) as url,
    ):
        yield url


def sign_in_at_provider(page, site: str, who: Claims):
    page.goto(f"{site}/contingencia/")
    wait_for_app(page)
    page.get_by_role("button", name="Iniciar sesión").click()
    page.wait_for_url(re.compile(r"127\.0\.0\.1"))  # the provider's login page
    page.get_by_role("button", name=re.compile(who["sub"])).first.click()
    page.wait_for_url(re.compile(r"/contingencia/"))
    wait_for_app(page)
    return page


def sign_in(page, site: str, who: Claims):
    sign_in_at_provider(page, site, who)
    expect(session_menu(page, timeout_ms=15_000)).to_contain_text(who["name"])
    return page


def test_every_kind_of_answer_carries_the_security_headers(site):
    with insecure_client() as http:
        answers = answers_of_every_kind(http, site)
    assert {what: r.status_code for what, r in answers.items()} == {
        "page": 200,
        "static asset": 200,
        "health": 200,
        "redirect": 301,
        "not found": 404,
    }
    assert {what: missing_security_headers(r.headers) for what, r in answers.items()} == {what: {} for what in answers}
    assert {what: shown_version(r) for what, r in answers.items()} == dict.fromkeys(answers)  # server_tokens off


def test_supervisor_signs_in_acts_and_is_in_bitacora(site, browser):
    page = browser.new_context(viewport=TABLET, ignore_https_errors=True).new_page()
    with security_headers_checked(page, site):  # sign-in, websocket, dialogs and reloads work through them
        supervisor_signs_in_acts_and_is_in_bitacora(page, site)
    page.context.close()


def supervisor_signs_in_acts_and_is_in_bitacora(page, site):
    sign_in(page, site, ANA)
    expect(session_menu(page)).to_contain_text("Supervisor")
    page.reload()
    wait_for_app(page)
    expect(session_menu(page)).to_contain_text(ANA["name"])  # a reload keeps the session

    end_first_branch(page, f"{site}/contingencia")
    start_one_event(page, f"{site}/contingencia", "Prueba OIDC")
    texts = bitacora_cells(page, f"{site}/contingencia", ANA["email"]).all_inner_texts()
    assert "Iniciar" in texts and "Finalizar" in texts

    session_menu(page).get_by_role("button", name="Cerrar sesión").click()
    page.wait_for_url(re.compile(r"127\.0\.0\.1:\d+/"))  # the provider's end-session page
    page.get_by_role("button", name=re.compile("End session", re.I)).click()
    page.wait_for_load_state()
    page.goto(f"{site}/contingencia/")
    wait_for_app(page)
    expect(page.get_by_role("button", name="Iniciar sesión")).to_be_visible()


def test_viewer_sees_pages_and_no_action_control(site, browser):
    page = sign_in(browser.new_context(viewport=TABLET, ignore_https_errors=True).new_page(), site, BETO)
    expect(session_menu(page)).to_contain_text("Observador")
    for path, heading in (
        ("", "Estado"),
        ("eventos", "Eventos activos"),
        ("conectividad", "Conectividad"),
        ("historial", "Historial"),
        ("bitacora", "Bitácora"),
    ):
        page.goto(f"{site}/contingencia/{path}")
        wait_for_app(page)
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        expect(page.get_by_role("button", name=re.compile(r"^(Finalizar|Iniciar contingencia)"))).to_have_count(0)
    page.goto(f"{site}/contingencia/iniciar")
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Iniciar evento")).to_have_count(0)
    page.reload()
    wait_for_app(page)
    expect(session_menu(page)).to_contain_text(BETO["name"])
    page.context.close()


@pytest.mark.parametrize("who", [ELENA, PABLO, RUTH], ids=["unverified-email", "preferred-username", "subject"])
def test_a_revoked_person_gets_no_access_whatever_the_role_claim_says(site, browser, who):
    page = sign_in_at_provider(browser.new_context(viewport=TABLET, ignore_https_errors=True).new_page(), site, who)
    for path in ("", "eventos", "iniciar"):  # the home page and deep links alike
        if path:
            page.goto(f"{site}/contingencia/{path}")
            wait_for_app(page)
        expect(page.get_by_text("no tiene acceso a este tablero")).to_be_visible(timeout=15_000)
        expect(page.get_by_text("Su acceso fue retirado en la lista de usuarios.")).to_be_visible()
        expect(page.get_by_role("heading", name=re.compile(r"^(Estado|Eventos activos|Iniciar evento)$"))).to_have_count(0)
    page.context.close()
