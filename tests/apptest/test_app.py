"""AppTest: the shell and Estado, on the demo and under each misconfiguration."""

from __future__ import annotations

import re
import socket

from tests.support.apptest import header_siat, page_word, run_app, texts


def test_demo_shows_mode_siat_and_inventory():
    at = run_app()
    body = texts(at)
    assert "DEMO" in body
    assert f"SIAT: {page_word(at)}]" in header_siat(at)  # the header says SIAT's state as Estado does, not one check's
    assert "Todos son supervisores (DEMO)" in body  # nobody signs in: the header says what that means
    assert at.title[0].value == "Estado"
    assert "hora de La Paz" in body


def test_sandbox_badge(app_secrets):
    # The badge follows the configured host; this one is unreachable from here, so Estado explains.
    at = run_app({**app_secrets, "base_url": "https://sandbox.cucu.bo", "timeout_s": 1})
    assert "SANDBOX" in texts(at)


def test_production_badge(app_secrets):
    assert "PRODUCCIÓN" in texts(run_app(app_secrets))


def test_environment_overrides_secrets(clean_env, app_secrets):
    clean_env.setenv("CUCU_BASE_URL", app_secrets["base_url"])
    clean_env.setenv("CUCU_API_KEY", app_secrets["api_key"])
    at = run_app({**app_secrets, "base_url": "https://sandbox.cucu.bo", "api_key": "sk_test_wrong"})
    assert "PRODUCCIÓN" in texts(at) and "SIAT en línea" in texts(at)


def test_bad_inventory_is_explained(tmp_path):
    bad = tmp_path / "inv.toml"
    bad.write_text('[[branches]]\nid = "nope"\nname = "Centro"\n[[branches.pos]]\nid = "x"\nname = "Caja"\n')
    at = run_app({"inventory": str(bad), "db": str(tmp_path / "x.db")})
    message = at.error[0].value
    assert "El inventario no se puede usar" in message and "«Centro»" in message and "UUID" in message


def test_missing_key_is_explained(app_secrets):
    at = run_app({k: v for k, v in app_secrets.items() if k != "api_key"})
    assert "Falta la clave API" in at.error[0].value


def test_unreachable_base_url_is_explained(app_secrets):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    at = run_app({**app_secrets, "base_url": f"http://127.0.0.1:{port}"})
    body = texts(at)
    assert "No se puede conectar con cucu" in body and "CUCU_BASE_URL" in body
    # the check the first view asked for, which no rule counts: its own note (the state is "Sin datos")
    assert re.search(r"Comprobación pedida a las \d\d:\d\d:\d\d: sin conexión con cucu\.", body)


def test_rejected_key_is_explained(app_secrets):
    at = run_app({**app_secrets, "api_key": "sk_test_wrong_key"})
    body = texts(at)
    assert "cucu rechazó la clave API" in body and "CUCU_API_KEY" in body
    assert "sk_test_wrong_key" not in body


def test_not_cucu_is_explained(sim, app_secrets):
    sim.update_faults({"malformed_rate": 1.0})
    assert "no parece ser cucu" in texts(run_app(app_secrets))


def test_demo_has_connectivity_history_to_show():
    from tests.support.apptest import run_app as run

    at = run(page="pages/conectividad.py")
    values = [m.value for m in at.metric]
    assert len(values) == 3 and all(v != "—" for v in values)  # uptime 24 h / 7 d / 30 d from the backfill
