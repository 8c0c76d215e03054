"""Settings: environment variables override the ``[cucu]`` table of ``.streamlit/secrets.toml``.

No Streamlit here: the app passes ``st.secrets["cucu"]`` in as a plain mapping. No base URL
means DEMO mode (the built-in simulator). The API key is kept out of every repr.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

SANDBOX_HOST = "sandbox.cucu.bo"
DEFAULT_DB_PATH = "contingencia.db"

# setting name -> (environment variable, key in [cucu])
_SOURCES = {
    "base_url": ("CUCU_BASE_URL", "base_url"),
    "api_key": ("CUCU_API_KEY", "api_key"),
    "inventory": ("CUCU_INVENTORY", "inventory"),
    "db": ("CUCU_DB", "db"),
    "timeout_s": ("CUCU_TIMEOUT_S", "timeout_s"),
    "simulator_port": ("CUCU_SIMULATOR_PORT", "simulator_port"),
    "collector": ("CUCU_COLLECTOR", "collector"),
    "check_interval_s": ("CUCU_CHECK_INTERVAL_S", "check_interval_s"),
    "sweep_interval_s": ("CUCU_SWEEP_INTERVAL_S", "sweep_interval_s"),
    "concurrency": ("CUCU_CONCURRENCY", "concurrency"),
    "long_open_hours": ("CUCU_LONG_OPEN_HOURS", "long_open_hours"),
}

# numeric setting -> (type, default, minimum)
_NUMBERS = {
    "timeout_s": (float, 10.0, 0.5),
    "simulator_port": (int, 0, 0),
    "check_interval_s": (float, 30.0, 1.0),
    "sweep_interval_s": (float, 60.0, 1.0),
    "concurrency": (int, 16, 1),
    "long_open_hours": (float, 24.0, 0.1),
}


class SettingsError(ValueError):
    """The configuration cannot work; ``str(err)`` says what and how to fix it, in Spanish."""


class Mode(enum.Enum):
    DEMO = "DEMO"
    SANDBOX = "SANDBOX"
    PRODUCCION = "PRODUCCIÓN"

    @property
    def label(self) -> str:
        return self.value


@dataclass(frozen=True)
class Settings:
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    inventory: Path | None = None
    # None: DEFAULT_DB_PATH, or a throw-away file in DEMO. Out of repr: a PostgreSQL URL may hold a password.
    db: str | None = field(default=None, repr=False)
    timeout_s: float = 10.0
    simulator_port: int = 0  # DEMO only: 0 picks a free loopback port
    collector: bool = True  # off: pages show what the database holds, nothing polls cucu
    check_interval_s: float = 30.0
    sweep_interval_s: float = 60.0
    concurrency: int = 16
    long_open_hours: float = 24.0

    @property
    def mode(self) -> Mode:
        if not self.base_url:
            return Mode.DEMO
        if urlsplit(self.base_url).hostname == SANDBOX_HOST:
            return Mode.SANDBOX
        return Mode.PRODUCCION

    @property
    def host(self) -> str | None:
        return urlsplit(self.base_url).hostname if self.base_url else None

    def cache_key(self) -> str:
        """Identifies the configuration for caches, without carrying the key itself."""
        key_digest = hashlib.sha256((self.api_key or "").encode()).hexdigest()[:12]
        return "|".join(str(v) for v in (dataclasses.replace(self, api_key=key_digest).__dict__.values()))


def load_settings(secrets: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Merge ``[cucu]`` secrets with environment overrides and validate the result."""
    secrets = dict(secrets or {})
    environ = environ or {}
    known_keys = {key for _, key in _SOURCES.values()}
    unknown = sorted(set(secrets) - known_keys)
    if unknown:
        raise SettingsError(
            f"La tabla [cucu] de secrets.toml tiene claves desconocidas: {', '.join(unknown)}. "
            f"Se admiten: {', '.join(sorted(known_keys))}."
        )

    raw = merge_sources(_SOURCES, secrets, environ)

    base_url = raw["base_url"]
    if base_url is not None:
        base_url = str(base_url).rstrip("/")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SettingsError(
                f"La dirección de cucu «{base_url}» no es válida. Use una URL completa, "
                f"por ejemplo https://{SANDBOX_HOST} (CUCU_BASE_URL o [cucu].base_url)."
            )
        if raw["api_key"] is None:
            raise SettingsError(
                "Falta la clave API de cucu. Defina CUCU_API_KEY o [cucu].api_key en .streamlit/secrets.toml "
                "(las claves de sandbox empiezan con sk_test_)."
            )
        if raw["inventory"] is None:
            raise SettingsError(
                "Falta el inventario de sucursales y puntos de venta: cucu no ofrece una lista. "
                "Defina CUCU_INVENTORY o [cucu].inventory con la ruta de un archivo TOML (vea el README)."
            )

    numbers = {}
    for name, (kind, default, minimum) in _NUMBERS.items():
        env_var, key = _SOURCES[name]
        numbers[name] = _number(raw[name], default, f"{env_var} / [cucu].{key}", kind, minimum=minimum)
    return Settings(
        base_url=base_url,
        api_key=str(raw["api_key"]) if raw["api_key"] is not None else None,
        inventory=Path(str(raw["inventory"])).expanduser() if raw["inventory"] is not None else None,
        db=str(raw["db"]) if raw["db"] is not None else None,
        collector=parse_switch(raw["collector"], "CUCU_COLLECTOR / [cucu].collector", default=True),
        **numbers,
    )


def _number(value: Any, default, name: str, kind, *, minimum):
    if value is None:
        return default
    if isinstance(value, bool):
        raise SettingsError(f"{name} debe ser un número; se recibió «{value}».")
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{name} debe ser un número; se recibió «{value}».") from None
    if number < minimum:
        raise SettingsError(f"{name} debe ser al menos {minimum}; se recibió «{value}».")
    return number


def merge_sources(
    sources: Mapping[str, tuple[str, str]], section: Mapping[str, Any], environ: Mapping[str, str]
) -> dict[str, Any]:
    """One value per setting: the environment variable when set and not blank, else the table's key.

    ``sources`` maps setting -> (environment variable, key in the table). Strings are trimmed and a
    blank one counts as unset (None), so ``CUCU_X=`` in an env file falls back to secrets.toml.
    Shared by ``[cucu]`` here and ``[access]`` in ``cucu/access.py``.
    """
    raw: dict[str, Any] = {}
    for name, (env_var, key) in sources.items():
        value = environ.get(env_var)
        if value is None or value.strip() == "":
            value = section.get(key)
        if isinstance(value, str):
            value = value.strip() or None
        raw[name] = value
    return raw


def parse_switch(value: Any, name: str, *, default: bool, error: type[ValueError] = SettingsError) -> bool:
    """on/off from TOML booleans or environment text; anything else is refused, never guessed."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "on", "si", "sí", "yes"):
        return True
    if text in ("0", "false", "off", "no"):
        return False
    raise error(f"{name} debe ser on u off; se recibió «{value}».")
