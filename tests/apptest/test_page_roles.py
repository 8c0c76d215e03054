"""AppTest for each role on each page: what each sees and may do, and the refusal of a forced action."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from cucu.access import Identity
from cucu.vocabulary import ActionKind
from tests.support.apptest import APP, run_app, sent_bytes, texts

READ_PAGES = [
    "pages/estado.py",
    "pages/eventos.py",
    "pages/conectividad.py",
    "pages/historial.py",
    "pages/bitacora.py",
    "pages/alertas.py",
]
ACTION_KEYS = ("estado_sugerido", "finalizar_todos", "iniciar_revisar")
PROXY = {"mode": "proxy", "users": {"ana": "supervisor", "beto": "viewer", "carla": "none"}}


@pytest.fixture
def as_user(monkeypatch):
    """Sign in as a proxy user (the header AppTest cannot send is read through this one function)."""

    def sign_in(user: str | None):
        monkeypatch.setattr("ui.identity.signed_in_identity", lambda access: Identity(user) if user else None)

    return sign_in


def action_buttons(at) -> set[str]:
    return {b.key for b in at.button if b.key} & set(ACTION_KEYS) | {
        b.key for b in at.button if b.key and b.key.startswith("finalizar_")
    }


@pytest.mark.parametrize("page", READ_PAGES)
def test_viewer_sees_every_page_and_no_action_control(sim, seeded_runtime, app_secrets, as_user, page):
    as_user("beto")
    sim.update_faults({"siat_down": True})  # so Estado would offer the suggested contingency to a supervisor
    for _ in range(3):
        seeded_runtime.collector.check_once()
    at = run_app(app_secrets, page=page, access=PROXY)
    assert not action_buttons(at)
    body = texts(at)
    assert "beto" in body and "Observador" in body  # the sidebar says who and which role


def test_supervisor_has_the_action_controls(sim, seeded_runtime, app_secrets, as_user):
    as_user("ana")
    sim.update_faults({"siat_down": True})
    for _ in range(3):
        seeded_runtime.collector.check_once()
    assert "estado_sugerido" in action_buttons(run_app(app_secrets, access=PROXY))
    assert "finalizar_todos" in action_buttons(run_app(app_secrets, page="pages/eventos.py", access=PROXY))
    assert "iniciar_revisar" in {b.key for b in run_app(app_secrets, page="pages/iniciar.py", access=PROXY).button}


def test_viewer_has_no_iniciar_page(sim, seeded_runtime, app_secrets, as_user):
    as_user("beto")
    at = run_app(app_secrets, access=PROXY)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/iniciar.py")  # not in a viewer's navigation at all


def test_forced_action_of_a_viewer_is_refused_and_audited(sim, seeded_runtime, app_secrets, as_user):
    from ui.actions import PendingAction

    as_user("beto")
    free = [p for p in sim.inventory.all_pos if not any(e["posId"] == p.id and not e["finalizado"] for e in sim.events())][:2]
    at = run_app(app_secrets, page="pages/eventos.py", access=PROXY)
    # a crafted session
    at.session_state["accion_pendiente"] = PendingAction(ActionKind.START, tuple(p.id for p in free), 1, "forzado")
    at.run()
    at.button(key="accion_confirmar").click().run()
    assert not at.exception
    results = at.dataframe[0].value
    assert list(results["Resultado"].str.contains("Sin permiso")) == [True, True]
    assert results["Detalle"].str.contains("no permite").all()
    assert sim.stats()["by_route"].get("POST /api/v1/events/start", 0) == 0
    rows = seeded_runtime.store.audit_entries()
    assert len(rows) == 2 and {(r.actor, r.role, r.outcome) for r in rows} == {("beto", "viewer", "denegado")}


def test_revoked_user_has_no_access(sim, seeded_runtime, app_secrets, as_user):
    as_user("carla")
    at = run_app(app_secrets, access=PROXY)
    assert "no tiene acceso a este tablero" in at.error[0].value and "retirado" in at.error[0].value
    assert not at.dataframe and not at.metric


def test_unknown_user_gets_the_configured_default(sim, seeded_runtime, app_secrets, as_user):
    as_user("intruso")
    assert "no tiene acceso" in run_app(app_secrets, access={**PROXY, "default_role": "none"}).error[0].value
    at = run_app(app_secrets, access=PROXY)
    assert not at.error and "Observador" in texts(at)


def test_proxy_without_user_header_has_no_access(sim, seeded_runtime, app_secrets, as_user):
    as_user(None)
    assert "no tiene acceso" in run_app(app_secrets, access=PROXY).error[0].value


def test_oidc_asks_to_sign_in(sim, seeded_runtime, app_secrets):
    at = run_app(app_secrets, access={"mode": "oidc"}, user={"is_logged_in": False})
    assert "Inicie sesión" in texts(at) and "iniciar_sesion" in {b.key for b in at.button}
    assert not at.metric


def test_oidc_role_from_the_claim(sim, seeded_runtime, app_secrets):
    sup = {"is_logged_in": True, "email": "ana@empresa.bo", "email_verified": True, "name": "Ana", "groups": ["contingencia-sup"]}
    access = {"mode": "oidc", "role_claim": "groups", "role_map": {"contingencia-sup": "supervisor"}}
    at = run_app(app_secrets, page="pages/iniciar.py", access=access, user=sup)
    assert "iniciar_revisar" in {b.key for b in at.button}
    assert "Ana" in texts(at) and "cerrar_sesion" in {b.key for b in at.button}
    revoked = run_app(app_secrets, access={**access, "users": {"ana@empresa.bo": "none"}}, user=sup)
    assert "no tiene acceso" in revoked.error[0].value


def test_sign_in_off_outside_demo_is_read_only_and_says_so(sim, seeded_runtime, app_secrets):
    at = run_app(app_secrets, page="pages/eventos.py", access={"mode": "off"})
    assert "Inicio de sesión desactivado" in texts(at)
    assert not action_buttons(at)


def test_header_says_who_acts_and_with_which_role(sim, seeded_runtime, app_secrets, as_user):
    as_user("beto")
    at = run_app(app_secrets, access=PROXY)
    header = " ".join(m.value for m in at.markdown if "Observador" in m.value)
    assert "beto · Observador" in header


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        ({}, "Falta [auth].cookie_secret"),
        ({"cookie_secret": "reemplace: python3 -c 'import secrets; print(secrets.token_hex(32))'"}, "texto del ejemplo"),
        ({"cookie_secret": "corto"}, "tiene 5 bytes; se necesitan al menos 32"),
    ],
    ids=["missing", "placeholder", "short"],
)
def test_oidc_refuses_to_start_without_a_usable_cookie_secret(sim, app_secrets, auth, expected):
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.secrets["cucu"] = app_secrets
    at.secrets["access"] = {"mode": "oidc"}
    at.secrets["auth"] = auth
    at.run()
    assert not at.exception
    assert "La configuración no es válida" in texts(at) and expected in texts(at)
    assert not at.get("plotly_chart") and not at.dataframe  # nothing of the dashboard behind it


@pytest.mark.parametrize(
    ("proxy_secret", "expected"),
    [
        (None, "Falta [access].proxy_secret"),
        ("reemplace: python3 -c 'import secrets; print(secrets.token_hex(32))'", "texto del ejemplo"),
        ("corto-pero-secreto", "tiene 18 bytes; se necesitan al menos 32"),
    ],
    ids=["missing", "placeholder", "short"],
)
def test_proxy_refuses_to_start_without_a_usable_proxy_secret(sim, app_secrets, as_user, proxy_secret, expected):
    as_user("ana")  # even a user the header would name gets nothing but the explanation
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.secrets["cucu"] = app_secrets
    at.secrets["access"] = PROXY | ({"proxy_secret": proxy_secret} if proxy_secret else {})
    at.run()
    assert not at.exception
    assert "La configuración no es válida" in texts(at) and expected in texts(at)
    assert proxy_secret is None or proxy_secret not in texts(at)  # the value is never shown
    assert not at.get("plotly_chart") and not at.dataframe and "ana" not in texts(at)


def test_a_wall_display_account_opens_pantalla_alone_and_reads_only(sim, seeded_runtime, app_secrets, as_user):
    """Role ``pantalla`` (a user of nginx's password file, the TV's own credentials, mapped to ``pantalla`` in
    [access.users]; the shipped sites have no location of its own): the wall under every address, no other page to
    switch to, nothing it may do."""
    as_user("tv-oficina")
    access = {"mode": "proxy", "users": {"ana": "supervisor", "tv-oficina": "pantalla"}}
    at = run_app(app_secrets, access=access)
    assert [t.value for t in at.title] == ["SIAT: :green[Operativo]"]  # Pantalla, not Estado
    assert {m.label for m in at.metric} >= {"POS en contingencia", "Qué hacer ahora"}
    for other in ("pages/estado.py", "pages/eventos.py", "pages/iniciar.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(other)
    assert not action_buttons(at)


def test_the_identity_providers_group_can_make_a_display(sim, seeded_runtime, app_secrets):
    tv = {"is_logged_in": True, "email": "tv@empresa.bo", "email_verified": True, "name": "TV", "groups": ["pantallas"]}
    access = {"mode": "oidc", "role_claim": "groups", "role_map": {"pantallas": "pantalla"}}
    at = run_app(app_secrets, access=access, user=tv)
    assert [t.value for t in at.title] == ["SIAT: :green[Operativo]"]


@pytest.mark.parametrize("mode", ["oidc", "proxy"])
def test_a_display_token_in_the_url_makes_a_wall_display(sim, seeded_runtime, app_secrets, mode):
    """A TV that cannot sign in: the operator's token (its SHA-256 listed, with a scope) opens Pantalla alone; a
    wrong token is nobody."""
    from cucu.access import DISPLAY_PARAM, new_token

    token, digest = new_token()
    access = {"mode": mode, "display_tokens": [{"sha256": digest, "regions": ["La Paz"]}]}
    at = run_app(app_secrets, access=access, query={DISPLAY_PARAM: token})
    at.run()
    assert [t.value for t in at.title] == ["SIAT: :green[Operativo]"]  # Pantalla
    sent = sent_bytes(at)  # the token's scope: La Paz's tiles, no other region's
    assert b"La Paz" in sent and b"Santa Cruz" not in sent and b"Cochabamba" not in sent
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/estado.py")
    wrong = run_app(app_secrets, access=access, query={DISPLAY_PARAM: token + "x"})
    wrong.run()
    assert "SIAT: :green[Operativo]" not in [t.value for t in wrong.title]
    assert not action_buttons(wrong)
