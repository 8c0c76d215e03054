"""Settings: environment variables override the ``[cucu]`` table of ``.streamlit/secrets.toml``.

No Streamlit here: the app passes ``st.secrets["cucu"]`` in as a plain mapping. No base URL
means DEMO mode (the built-in simulator). The API key is kept out of every repr.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cucu.vocabulary import Mode

SANDBOX_HOST = "sandbox.cucu.bo"
DEFAULT_DB_PATH = "contingencia.db"
ENV_PREFIX = "CUCU_"  # every setting of [cucu] is also CUCU_<NAME>; [access]'s are CUCU_ACCESS_<NAME>

# Defaults that other modules also use as theirs (a Collector or Actions built without settings).
DEFAULT_CONCURRENCY = 32  # 10 000 POS at 100 ms a call: a sweep in ~31 s, within the 60 s interval
DEFAULT_CHECK_INTERVAL_S = 30.0
DEFAULT_SWEEP_INTERVAL_S = 60.0
DEFAULT_LONG_OPEN_HOURS = 24.0  # an event open longer than this stands out
DEFAULT_SETTLE_WINDOW_S = 60.0  # re-reading an uncertain start or end; then the collector's sweeps settle it
DEFAULT_BACKFILL_PER_MINUTE = 300  # calls a minute for reading completed days into the store
DEFAULT_BACKFILL_DAYS = 62  # how many days before today the backfill completes (Historial's longest range)


class SettingsError(ValueError):
    """The configuration cannot work; ``str(err)`` says what and how to fix it, in Spanish."""


def _number(kind: type[int] | type[float], default: float, minimum: float) -> Any:
    """A numeric setting: its type, its default, and the smallest value that can work."""
    return field(default=kind(default), metadata={"kind": kind, "minimum": minimum})


@dataclass(frozen=True)
class Settings:
    """Each field is ``[cucu].<name>`` in secrets.toml or ``CUCU_<NAME>`` in the environment."""

    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    inventory: Path | None = None
    # None: DEFAULT_DB_PATH, or a throw-away file in DEMO. Out of repr: a PostgreSQL URL may hold a password.
    db: str | None = field(default=None, repr=False)
    timeout_s: float = _number(float, 10, 0.5)
    simulator_port: int = _number(int, 0, 0)  # DEMO only: 0 picks a free loopback port
    collector: bool = True  # off: pages show what the database holds, nothing polls cucu
    check_interval_s: float = _number(float, DEFAULT_CHECK_INTERVAL_S, 1.0)
    sweep_interval_s: float = _number(float, DEFAULT_SWEEP_INTERVAL_S, 1.0)
    concurrency: int = _number(int, DEFAULT_CONCURRENCY, 1)
    long_open_hours: float = _number(float, DEFAULT_LONG_OPEN_HOURS, 0.1)
    backfill_per_minute: int = _number(int, DEFAULT_BACKFILL_PER_MINUTE, 0)  # 0: no backfill
    backfill_days: int = _number(int, DEFAULT_BACKFILL_DAYS, 1)
    settle_window_s: float = _number(float, DEFAULT_SETTLE_WINDOW_S, 0)  # 0: only the collector settles
    # DEMO only: a generated inventory of (branches, POS per branch) instead of the demo's 22 POS.
    demo_size: tuple[int, int] | None = None

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


def env_sources(fields: Iterable[dataclasses.Field[Any]], env_prefix: str) -> dict[str, tuple[str, str]]:
    """setting -> (environment variable, key in its table), derived from the dataclass fields."""
    return {f.name: (f"{env_prefix}{f.name.upper()}", f.name) for f in fields}


_SOURCES = env_sources(dataclasses.fields(Settings), ENV_PREFIX)
_NUMBERS = {f.name: f for f in dataclasses.fields(Settings) if "minimum" in f.metadata}


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

    demo_size = None
    if raw["demo_size"] is not None:
        demo_size = parse_size(raw["demo_size"], f"{_SOURCES['demo_size'][0]} / [cucu].demo_size")
        if base_url is not None or raw["inventory"] is not None:
            raise SettingsError(
                f"{_SOURCES['demo_size'][0]} genera un inventario de demostración: solo vale en modo DEMO "
                "y sin inventario propio (CUCU_BASE_URL y CUCU_INVENTORY sin definir)."
            )

    numbers = {}
    for name, spec in _NUMBERS.items():
        env_var, key = _SOURCES[name]
        numbers[name] = _parse_number(
            raw[name], spec.default, f"{env_var} / [cucu].{key}", spec.metadata["kind"], minimum=spec.metadata["minimum"]
        )
    return Settings(
        base_url=base_url,
        api_key=str(raw["api_key"]) if raw["api_key"] is not None else None,
        inventory=Path(str(raw["inventory"])).expanduser() if raw["inventory"] is not None else None,
        db=str(raw["db"]) if raw["db"] is not None else None,
        collector=parse_switch(raw["collector"], f"{_SOURCES['collector'][0]} / [cucu].collector", default=Settings.collector),
        demo_size=demo_size,
        **numbers,
    )


MAX_DEMO_POS = 20_000


def parse_size(value: Any, name: str) -> tuple[int, int]:
    """``"1000x10"``: 1 000 branches of 10 POS each (the generated inventories of the demo and the simulator)."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", str(value))
    if not match:
        raise SettingsError(f"{name} se escribe SUCURSALESxPUNTOS, p. ej. 1000x10; se recibió «{value}».")
    branches, per_branch = int(match[1]), int(match[2])
    if branches < 1 or per_branch < 1 or branches * per_branch > MAX_DEMO_POS:
        raise SettingsError(f"{name}: al menos 1x1 y como máximo {MAX_DEMO_POS} puntos de venta; se recibió «{value}».")
    return branches, per_branch


def _parse_number(value: Any, default: Any, name: str, kind: type[int] | type[float], *, minimum: float) -> Any:
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
