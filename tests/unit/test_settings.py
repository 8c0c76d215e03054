"""Settings: environment over [cucu] secrets, mode detection, refusals in Spanish."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cucu.settings import SettingsError, load_settings
from cucu.vocabulary import Mode

FULL = {"base_url": "https://sandbox.cucu.bo/", "api_key": "sk_test_abc", "inventory": "inv.toml", "db": "x.db"}


def test_nothing_configured_is_demo():
    s = load_settings({}, {})
    assert s.mode is Mode.DEMO and s.base_url is None and s.api_key is None
    assert s.db is None and s.simulator_port == 0
    assert (s.collector, s.check_interval_s, s.sweep_interval_s, s.concurrency, s.long_open_hours) == (True, 30.0, 60.0, 32, 24.0)


def test_collector_settings_from_environment():
    env = {
        "CUCU_COLLECTOR": "off",
        "CUCU_CHECK_INTERVAL_S": "5",
        "CUCU_SWEEP_INTERVAL_S": "10",
        "CUCU_CONCURRENCY": "32",
        "CUCU_LONG_OPEN_HOURS": "12",
    }
    s = load_settings({"concurrency": 8}, env)
    assert (s.collector, s.check_interval_s, s.sweep_interval_s, s.concurrency, s.long_open_hours) == (False, 5.0, 10.0, 32, 12.0)
    assert load_settings({"collector": False}, {}).collector is False


def test_secrets_table_is_read():
    s = load_settings(FULL, {})
    assert s.base_url == "https://sandbox.cucu.bo" and s.api_key == "sk_test_abc"
    assert s.inventory == Path("inv.toml") and s.db == "x.db" and s.mode is Mode.SANDBOX


def test_environment_overrides_secrets():
    env = {
        "CUCU_BASE_URL": "https://cucu.miempresa.bo",
        "CUCU_API_KEY": "sk_live_x",
        "CUCU_INVENTORY": "/etc/inv.toml",
        "CUCU_DB": "/var/lib/c.db",
    }
    s = load_settings(FULL, env)
    assert (s.base_url, s.api_key, str(s.inventory), s.db) == (
        "https://cucu.miempresa.bo",
        "sk_live_x",
        "/etc/inv.toml",
        "/var/lib/c.db",
    )
    assert s.mode is Mode.PRODUCTION and s.mode.label == "PRODUCCIÓN"


def test_empty_environment_value_does_not_override():
    assert load_settings(FULL, {"CUCU_BASE_URL": "  "}).base_url == "https://sandbox.cucu.bo"


def test_demo_may_use_an_operator_inventory():
    s = load_settings({"inventory": "mine.toml"}, {})
    assert s.mode is Mode.DEMO and s.inventory == Path("mine.toml")


@pytest.mark.parametrize(
    ("secrets", "env", "fragment"),
    [
        ({**FULL, "base_url": "sandbox.cucu.bo"}, {}, "no es válida"),
        ({**FULL, "api_key": ""}, {}, "Falta la clave API"),
        ({k: v for k, v in FULL.items() if k != "inventory"}, {}, "Falta el inventario"),
        ({**FULL, "apikey": "x"}, {}, "claves desconocidas: apikey"),
        ({}, {"CUCU_TIMEOUT_S": "rápido"}, "debe ser un número"),
        ({}, {"CUCU_SIMULATOR_PORT": "-1"}, "al menos 0"),
        ({}, {"CUCU_CONCURRENCY": "0"}, "CUCU_CONCURRENCY / \\[cucu\\].concurrency debe ser al menos 1"),
        ({}, {"CUCU_COLLECTOR": "quizás"}, "on u off"),
        ({"check_interval_s": True}, {}, "debe ser un número"),
    ],
    ids=[
        "url-without-scheme",
        "no-key",
        "no-inventory",
        "unknown-key",
        "bad-timeout",
        "bad-port",
        "bad-concurrency",
        "bad-switch",
        "bool-number",
    ],
)
def test_refusals(secrets, env, fragment):
    with pytest.raises(SettingsError, match=fragment):
        load_settings(secrets, env)


def test_key_not_in_repr_or_cache_key():
    s = load_settings(FULL, {})
    assert "sk_test_abc" not in repr(s) and "sk_test_abc" not in s.cache_key()
    assert s.cache_key() != load_settings({**FULL, "api_key": "sk_test_other"}, {}).cache_key()


def test_database_password_not_in_repr():
    s = load_settings({**FULL, "db": "postgresql+psycopg://contingencia:clave-secreta@db.interno/contingencia"}, {})
    assert "clave-secreta" not in repr(s) and s.db is not None and s.db.endswith("@db.interno/contingencia")


def test_every_setting_is_a_cucu_variable_and_a_key_of_its_table():
    import dataclasses

    from cucu.access import AccessSettings, load_access
    from cucu.settings import Settings

    env = {f"CUCU_{f.name.upper()}": "" for f in dataclasses.fields(Settings)}
    assert load_settings({}, env) == Settings()  # blank values fall back to the defaults
    assert load_settings({}, {"CUCU_LONG_OPEN_HOURS": "6"}).long_open_hours == 6.0
    assert load_settings({"long_open_hours": 6}, {}).long_open_hours == 6.0
    assert load_access({}, {"CUCU_ACCESS_USER_HEADER": "X-User"}).user_header == "X-User"
    assert load_access({"user_header": "X-User"}, {}).user_header == "X-User"
    assert AccessSettings().mode == "off"


def test_the_demo_may_run_on_a_generated_inventory_of_any_size():
    assert load_settings({}, {"CUCU_DEMO_SIZE": "1000x10"}).demo_size == (1000, 10)
    assert load_settings({"demo_size": " 3 X 2 "}, {}).demo_size == (3, 2)
    assert load_settings({}, {}).demo_size is None


@pytest.mark.parametrize(
    ("secrets", "env", "fragment"),
    [
        ({}, {"CUCU_DEMO_SIZE": "mil"}, "SUCURSALESxPUNTOS"),
        ({}, {"CUCU_DEMO_SIZE": "0x10"}, "al menos 1x1"),
        ({}, {"CUCU_DEMO_SIZE": "3000x10"}, "como máximo 20000"),
        ({}, {"CUCU_DEMO_SIZE": "10x2", "CUCU_INVENTORY": "inv.toml"}, "solo vale en modo DEMO"),
        (
            {"base_url": "https://sandbox.cucu.bo", "api_key": "sk_test_x", "inventory": "inv.toml", "demo_size": "2x2"},
            {},
            "solo vale en modo DEMO",
        ),
    ],
)
def test_demo_size_refusals(secrets, env, fragment):
    with pytest.raises(SettingsError, match=fragment):
        load_settings(secrets, env)


def test_a_generated_demo_inventory_is_what_the_runtime_and_its_simulator_serve(tmp_path):
    from cucu.runtime import build_runtime
    from cucu.simulator import Simulator

    runtime = build_runtime(load_settings({"demo_size": "3x2", "db": str(tmp_path / "d.db")}, {}), start_collector=False)
    try:
        assert [len(b.pos) for b in runtime.inventory.branches] == [2, 2, 2]
        assert isinstance(runtime.simulator, Simulator) and runtime.simulator.inventory == runtime.inventory
        pos = runtime.inventory.all_pos[-1]
        runtime.client.get_active_event(pos.id)  # the simulator knows the generated POS
    finally:
        runtime.close()


# ---- every numeric setting is finite and within its range (one helper: cucu.settings._parse_number) ----


def _numeric_settings():
    """(table, environment variable, key, field) of every numeric setting of [cucu], [alerts] and [policy]."""
    import dataclasses

    from cucu.settings import ALERTS_ENV_PREFIX, ENV_PREFIX, POLICY_ENV_PREFIX, AlertSettings, PolicySettings, Settings

    out = []
    for table, cls, prefix in (
        ("cucu", Settings, ENV_PREFIX),
        ("alerts", AlertSettings, ALERTS_ENV_PREFIX),
        ("policy", PolicySettings, POLICY_ENV_PREFIX),
    ):
        for f in dataclasses.fields(cls):
            if f.type in ("int", "float"):
                out.append((table, f"{prefix}{f.name.upper()}", f.name, f))
    return out


NUMERIC = _numeric_settings()


def _load(table, env_var, key, value, *, from_env):
    """Load with ``value`` for one setting, from the environment (text) or from its secrets.toml table."""
    if from_env:
        return load_settings({}, {env_var: str(value)})
    if table == "cucu":
        return load_settings({key: value}, {})
    return load_settings({}, {}, **{table: {key: value}})


def test_every_numeric_setting_declares_a_range():
    # A new int or float setting made without _number(kind, default, minimum, maximum) fails here.
    assert len(NUMERIC) >= 22
    for _table, env_var, _key, f in NUMERIC:
        assert {"kind", "minimum", "maximum"} <= set(f.metadata), f"{env_var} no declara su rango"
        assert f.metadata["minimum"] <= f.default <= f.metadata["maximum"], env_var


@pytest.mark.parametrize("from_env", [True, False], ids=["env", "secrets"])
@pytest.mark.parametrize(("table", "env_var", "key", "spec"), NUMERIC, ids=[n[1] for n in NUMERIC])
def test_every_numeric_setting_refuses_nan_infinity_and_values_out_of_range(table, env_var, key, spec, from_env):
    minimum, maximum = spec.metadata["minimum"], spec.metadata["maximum"]
    bad: list[object] = [float("nan"), float("inf"), float("-inf"), -1, maximum * 10 + 1, 10**30]
    if from_env:
        bad += ["nan", "NaN", "inf", "-inf", "Infinity", "1e400"]
    if minimum > 0:
        bad.append(0)
    for value in bad:
        with pytest.raises(SettingsError, match=f"{env_var} / \\[{table}\\].{key} debe ser"):
            _load(table, env_var, key, value, from_env=from_env)
    # the ends of the range are accepted
    for value in (minimum, maximum):
        loaded = _load(table, env_var, key, spec.metadata["kind"](value), from_env=from_env)
        held = getattr(loaded if table == "cucu" else getattr(loaded, table), key)
        assert held == spec.metadata["kind"](value)


def test_a_nan_check_interval_is_refused_in_spanish():
    with pytest.raises(
        SettingsError, match=re.escape("CUCU_CHECK_INTERVAL_S / [cucu].check_interval_s debe ser un número finito")
    ):
        load_settings({}, {"CUCU_CHECK_INTERVAL_S": "nan"})
    with pytest.raises(SettingsError, match="debe ser como máximo 86400"):
        load_settings({"check_interval_s": 1e9}, {})


@pytest.mark.usefixtures("streamlit_caches")
@pytest.mark.parametrize(("key", "value"), [("check_interval_s", float("nan")), ("timeout_s", float("inf"))])
def test_the_app_shows_the_configuration_page_for_a_number_that_cannot_work(app_secrets, key, value):
    from streamlit.testing.v1 import AppTest

    from tests.support.apptest import APP, SUPERVISOR_OFF, texts

    at = AppTest.from_file(str(APP), default_timeout=30)
    at.secrets["cucu"] = {**app_secrets, key: value}
    at.secrets["access"] = SUPERVISOR_OFF
    at.run()
    assert not at.exception
    assert "La configuración no es válida" in texts(at) and f"[cucu].{key} debe ser un número finito" in texts(at)
    assert not at.get("plotly_chart") and not at.dataframe


def test_every_configuration_error_is_one_kind():
    """Settings, [access] and the inventory: a process that must refuse to start catches one class."""
    from cucu.access import AccessSettingsError
    from cucu.inventory import InventoryError
    from cucu.settings import ConfigurationError, SettingsError

    for kind in (SettingsError, AccessSettingsError, InventoryError):
        assert issubclass(kind, ConfigurationError) and issubclass(kind, ValueError)
