"""Settings: environment variables override the ``[cucu]`` table of ``.streamlit/secrets.toml``.

No Streamlit here: the app passes ``st.secrets["cucu"]`` in as a plain mapping. No base URL
means DEMO mode (the built-in simulator). The API key is kept out of every repr.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cucu.organization.regions import region_name
from cucu.vocabulary import Mode, PolicyMaintenance, PolicyMode

if TYPE_CHECKING:
    from cucu.api.models import Branch

SANDBOX_HOST = "sandbox.cucu.bo"
DEFAULT_DB_PATH = "contingencia.db"
ENV_PREFIX = "CUCU_"  # every setting of [cucu] is also CUCU_<NAME>; [access]'s are CUCU_ACCESS_<NAME>

_DAY_S = 86_400.0  # no interval is useful past a day
_YEAR_H = 8_760.0


class ConfigurationError(ValueError):
    """Something an operator configured cannot work (settings, [access], the inventory): ``str(err)`` says what
    and how to fix it, in Spanish. Each source has its subclass; a process that only needs to refuse to start
    catches this one."""


class SettingsError(ConfigurationError):
    """The configuration cannot work; ``str(err)`` says what and how to fix it, in Spanish."""


def _number(kind: type[int] | type[float], default: float, minimum: float, maximum: float) -> Any:
    """A numeric setting: its type, its default, and the range that can work (both ends required: a
    value past any sane bound, like NaN, turned an interval into a busy loop)."""
    return field(default=kind(default), metadata={"kind": kind, "minimum": minimum, "maximum": maximum})


@dataclass(frozen=True)
class Settings:
    """Each field is ``[cucu].<name>`` in secrets.toml or ``CUCU_<NAME>`` in the environment.

    A field's default is the one source of that default: a module that needs it (a ``Collector`` or
    ``Actions`` built without settings) reads the class attribute, ``Settings.concurrency``."""

    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    inventory: Path | None = None
    # None: DEFAULT_DB_PATH, or a throw-away file in DEMO. Out of repr: a PostgreSQL URL may hold a password.
    db: str | None = field(default=None, repr=False)
    timeout_s: float = _number(float, 10, 0.5, 300)
    simulator_port: int = _number(int, 0, 0, 65535)  # DEMO only: 0 picks a free loopback port
    collector: bool = True  # off: pages show what the database holds, nothing polls cucu
    check_interval_s: float = _number(float, 30.0, 1.0, _DAY_S)
    sweep_interval_s: float = _number(float, 60.0, 1.0, _DAY_S)
    concurrency: int = _number(int, 32, 1, 256)  # 10 000 POS at 100 ms a call: a sweep in ~31 s, within the 60 s interval
    long_open_hours: float = _number(float, 24.0, 0.1, _YEAR_H)  # an event open longer than this stands out
    backfill_per_minute: int = _number(int, 300, 0, 60_000)  # calls a minute reading completed days; 0: no backfill
    backfill_days: int = _number(int, 62, 1, 366)  # days before today the backfill completes (Historial's longest range)
    # Re-reading an uncertain start or end; then the collector's sweeps settle it. 0: only the collector settles.
    settle_window_s: float = _number(float, 60.0, 0, 600)
    # Each POS's CUFD; one that cannot invoice is read again within a minute.
    cufd_interval_s: float = _number(float, 600.0, 10.0, _DAY_S)
    cufd_expiring_hours: float = _number(float, 2.0, 0, 24)  # a CUFD expiring within this is shown and alerted as "vence pronto"
    # A POS's CUFD is not renewed again within this (two supervisors, one list). 0: no cooldown.
    cufd_renew_cooldown_s: float = _number(float, 300.0, 0, 3600)
    invoice_interval_s: float = _number(float, 60.0, 5.0, _DAY_S)
    invoice_window_hours: float = _number(float, 72.0, 1.0, 744)  # how far back the invoice walk reads cucu's list
    invoice_pages_per_round: int = _number(int, 20, 0, 1000)  # list calls a round (50 invoices each); 0: invoices are not read
    invoice_statuses_per_round: int = _number(int, 50, 0, 10_000)  # status calls a round
    # Open invoices kept; a chain holds ~6 600 in 72 h: past this it is a flood.
    invoice_max_open: int = _number(int, 50_000, 100, 1_000_000)
    # DEMO only: a generated inventory of (branches, POS per branch) instead of the demo's 22 POS.
    demo_size: tuple[int, int] | None = None
    # The [alerts] and [policy] tables (their own tables and CUCU_ALERTS_* / CUCU_POLICY_* variables).
    alerts: AlertSettings = field(default_factory=lambda: AlertSettings())
    policy: PolicySettings = field(default_factory=lambda: PolicySettings())

    @property
    def mode(self) -> Mode:
        if not self.base_url:
            return Mode.DEMO
        if urlsplit(self.base_url).hostname == SANDBOX_HOST:
            return Mode.SANDBOX
        return Mode.PRODUCTION

    def cache_key(self) -> str:
        """Identifies the configuration for caches, without carrying the key itself."""
        key_digest = hashlib.sha256((self.api_key or "").encode()).hexdigest()[:12]
        return "|".join(str(v) for v in (dataclasses.replace(self, api_key=key_digest).__dict__.values()))


def env_sources(fields: Iterable[dataclasses.Field[Any]], env_prefix: str) -> dict[str, tuple[str, str]]:
    """setting -> (environment variable, key in its table), derived from the dataclass fields."""
    return {f.name: (f"{env_prefix}{f.name.upper()}", f.name) for f in fields}


_SUBTABLES = {"alerts", "policy"}  # fields read from tables of their own
_SOURCES = env_sources((f for f in dataclasses.fields(Settings) if f.name not in _SUBTABLES), ENV_PREFIX)
_NUMBERS = {f.name: f for f in dataclasses.fields(Settings) if "minimum" in f.metadata}


def load_settings(
    secrets: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    alerts: Mapping[str, Any] | None = None,
    policy: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge ``[cucu]`` secrets (and the ``[alerts]`` and ``[policy]`` tables) with environment overrides
    and validate the result."""
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

    numbers = _table_numbers(raw, _SOURCES, _NUMBERS, "cucu")
    return Settings(
        base_url=base_url,
        api_key=str(raw["api_key"]) if raw["api_key"] is not None else None,
        inventory=Path(str(raw["inventory"])).expanduser() if raw["inventory"] is not None else None,
        db=str(raw["db"]) if raw["db"] is not None else None,
        collector=parse_switch(raw["collector"], f"{_SOURCES['collector'][0]} / [cucu].collector", default=Settings.collector),
        demo_size=demo_size,
        alerts=load_alerts(alerts, environ),
        policy=load_policy(policy, environ),
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


def _parse_number(value: Any, default: Any, name: str, kind: type[int] | type[float], *, minimum: float, maximum: float) -> Any:
    """The one check of every numeric setting: a finite number of its kind within [minimum, maximum].
    NaN compares false with everything, so it slipped past a bare ``<`` (a check every millisecond)."""
    if value is None:
        return default
    if isinstance(value, bool):
        raise SettingsError(f"{name} debe ser un número; se recibió «{value}».")
    try:
        number = kind(value)
    except (TypeError, ValueError, OverflowError):  # int(inf) overflows; int("nan") is a ValueError
        raise SettingsError(f"{name} debe ser un número; se recibió «{value}».") from None
    if not math.isfinite(number):
        raise SettingsError(f"{name} debe ser un número finito; se recibió «{value}».")
    if number < minimum:
        raise SettingsError(f"{name} debe ser al menos {minimum:g}; se recibió «{value}».")
    if number > maximum:
        raise SettingsError(f"{name} debe ser como máximo {maximum:g}; se recibió «{value}».")
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


def plain_data(value: Any) -> Any:
    """Streamlit's attribute dicts (secrets, user info) as plain dicts and lists."""
    if hasattr(value, "items"):
        return {str(k): plain_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_data(v) for v in value]
    return value


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


# ---- [alerts] ---------------------------------------------------------------------------------

ALERTS_ENV_PREFIX = f"{ENV_PREFIX}ALERTS_"


@dataclass(frozen=True)
class Channel:
    """Where alerts go: an Apprise URL (it holds tokens: never in a repr, a log or the browser).

    ``tags`` route a branch's alerts (see ``cucu.alerts.audience``): an untagged channel gets every
    alert, a branch's in a summary of all branches; a tagged one the company's alerts and those of
    each branch whose tags it shares (``[alerts.branch_tags]``).
    """

    url: str = field(repr=False)
    tags: frozenset[str] = frozenset()
    label: str = ""  # scheme, server and fingerprint (never a secret): what the Alertas page, the outbox and the log show
    fingerprint: str = ""  # stable id of the URL, stored with each message instead of the URL


@dataclass(frozen=True)
class EscalationStep:
    """``[alerts.escalation]``: an alert nobody acknowledged ``after`` the previous step (the first: after its
    opening message) goes to the channels with one of ``tags``. A channel with an escalation tag gets an
    alert only once escalated to it (and its closing then), never from its opening."""

    after: timedelta
    tags: frozenset[str]


@dataclass(frozen=True)
class AlertSettings:
    """``[alerts]`` of secrets.toml; the numbers are also ``CUCU_ALERTS_<NAME>`` in the environment,
    and ``CUCU_ALERTS_URLS`` adds untagged channels (URLs separated by spaces)."""

    channels: tuple[Channel, ...] = ()
    branch_tags: Mapping[str, frozenset[str]] = field(default_factory=dict)  # branch id or name -> tags
    region_tags: Mapping[str, frozenset[str]] = field(default_factory=dict)  # region (cucu.organization.regions) -> tags
    disabled: frozenset[str] = frozenset()  # AlertRule values switched off in [alerts.rules]
    public_url: str | None = None  # the dashboard's address as people open it, for links in messages
    remind_minutes: float = _number(float, 60, 0, 10_080)  # 0: no reminders
    window_closing_hours: float = _number(float, 6, 0.1, 48)  # an ended event's 48 h window closes within this
    cucu_failing_minutes: float = _number(float, 5, 1, 1440)  # cucu unreachable or refusing the key this long
    unsettled_minutes: float = _number(float, 15, 1, 1440)  # a start or end still unconfirmed this long
    retry_s: float = _number(float, 30, 0.1, 900)  # first wait after a failed delivery; doubling up to 15 min
    send_timeout_s: float = _number(float, 20, 1, 600)  # one message to one channel, at most (connect, read, the whole send)
    escalation: tuple[EscalationStep, ...] = ()  # [alerts.escalation].steps: every rule's, unless it has its own
    escalation_rules: Mapping[str, tuple[EscalationStep, ...]] = field(default_factory=dict)  # AlertRule value -> steps
    # The channels (by their tags) that get the monthly compliance report on the 1st, as attachments; none: not sent.
    monthly_report_tags: frozenset[str] = frozenset()

    def tags_of(self, branch: Branch) -> frozenset[str]:
        """A branch's tags: its own (by id or name) and its region's."""
        own = self.branch_tags.get(branch.id, frozenset()) | self.branch_tags.get(branch.name, frozenset())
        return own | (self.region_tags.get(branch.region, frozenset()) if branch.region else frozenset())

    def escalation_for(self, rule: str) -> tuple[EscalationStep, ...]:
        return self.escalation_rules.get(str(rule), self.escalation)

    @property
    def escalation_tags(self) -> frozenset[str]:
        """Tags named by any step: their channels hear of an alert only once it is escalated to them."""
        steps = [*self.escalation, *(s for rule in self.escalation_rules.values() for s in rule)]
        return frozenset(tag for step in steps for tag in step.tags)


_ALERT_TABLES = {"channels", "branch_tags", "region_tags", "rules", "escalation", "monthly_report_tags"}
_ALERT_SOURCES = env_sources(
    (f for f in dataclasses.fields(AlertSettings) if f.name not in _ALERT_TABLES | {"disabled", "escalation_rules"}),
    ALERTS_ENV_PREFIX,
)
_ALERT_NUMBERS = {f.name: f for f in dataclasses.fields(AlertSettings) if "minimum" in f.metadata}


def load_alerts(section: Mapping[str, Any] | None, environ: Mapping[str, str]) -> AlertSettings:
    """``[alerts]`` merged with its environment overrides; every channel's URL must be one Apprise knows."""
    from cucu.vocabulary import AlertRule

    section = dict(section or {})
    known = {key for _, key in _ALERT_SOURCES.values()} | _ALERT_TABLES
    unknown = sorted(set(section) - known)
    if unknown:
        raise SettingsError(
            f"La tabla [alerts] tiene claves desconocidas: {', '.join(unknown)}. Se admiten: {', '.join(sorted(known))}."
        )
    raw = merge_sources(_ALERT_SOURCES, section, environ)
    numbers = _table_numbers(raw, _ALERT_SOURCES, _ALERT_NUMBERS, "alerts")
    listed = section.get("channels", [])
    if not isinstance(listed, list) or not all(isinstance(c, Mapping) for c in listed):
        raise SettingsError(
            '[alerts] channels es una lista de tablas: [[alerts.channels]] con url = "…" y, si quiere, tags = ["…"].'
        )
    specs: list[tuple[str, Any, Any]] = []
    for n, entry in enumerate(listed, start=1):
        extra = sorted(set(entry) - {"url", "tags"})
        if extra:
            raise SettingsError(
                f"El canal {n} de [[alerts.channels]] tiene claves desconocidas: {', '.join(extra)} (se admiten url y tags)."
            )
        specs.append((f"el canal {n} de [[alerts.channels]]", entry.get("url"), entry.get("tags", [])))
    for n, url in enumerate((environ.get(f"{ALERTS_ENV_PREFIX}URLS") or "").split(), start=1):
        specs.append((f"la dirección {n} de {ALERTS_ENV_PREFIX}URLS", url, []))
    channels = tuple(_channel(where, url, tags) for where, url, tags in specs)
    branch_tags = section.get("branch_tags", {})
    if not isinstance(branch_tags, Mapping) or not all(_is_tag_list(v) for v in branch_tags.values()):
        raise SettingsError('[alerts.branch_tags] asigna etiquetas a sucursales (por nombre o id): "Sucursal Norte" = ["norte"].')
    region_tags = section.get("region_tags", {})
    if not isinstance(region_tags, Mapping) or not all(_is_tag_list(v) for v in region_tags.values()):
        raise SettingsError('[alerts.region_tags] asigna etiquetas a regiones: "Santa Cruz" = ["oriente"].')
    rules = section.get("rules", {})
    names = {r.value for r in AlertRule}
    if not isinstance(rules, Mapping) or set(rules) - names or not all(isinstance(v, bool) for v in rules.values()):
        raise SettingsError(
            f"[alerts.rules] enciende o apaga reglas con true o false; las reglas son: {', '.join(sorted(names))}."
        )
    public_url = raw["public_url"]
    if public_url is not None:
        public_url = str(public_url).rstrip("/")
        if urlsplit(public_url).scheme not in ("http", "https") or not urlsplit(public_url).hostname:
            raise SettingsError(
                f"[alerts].public_url ({_ALERT_SOURCES['public_url'][0]}) es la dirección del tablero, p. ej. "
                f"https://contingencia.empresa.bo/contingencia; se recibió «{public_url}»."
            )
    escalation, escalation_rules = _escalation(section.get("escalation", {}), names)
    monthly = section.get("monthly_report_tags", [])
    if not _is_tag_list(monthly):
        raise SettingsError('[alerts].monthly_report_tags nombra las etiquetas de los canales del informe mensual: ["informes"].')
    return AlertSettings(
        channels=channels,
        branch_tags={str(k): frozenset(str(t) for t in v) for k, v in branch_tags.items()},
        # A department is named as the inventory's regions are ("santa cruz" is "Santa Cruz").
        region_tags={region_name(str(k)): frozenset(str(t) for t in v) for k, v in region_tags.items()},
        disabled=frozenset(name for name, on in rules.items() if not on),
        public_url=public_url,
        escalation=escalation,
        escalation_rules=escalation_rules,
        monthly_report_tags=frozenset(str(t) for t in monthly),
        **numbers,
    )


_ESCALATION_HELP = (
    '[alerts.escalation] escala las alertas que nadie atiende: steps = [{ after_minutes = 15, tags = ["jefes"] }, '
    '{ after_minutes = 30, tags = ["gerencia"] }] y, por regla, [alerts.escalation.rules] siat_caido = [ … ]'
)


def _escalation(table: Any, rules: set[str]) -> tuple[tuple[EscalationStep, ...], dict[str, tuple[EscalationStep, ...]]]:
    """``[alerts.escalation]``: the default steps and each rule's own."""
    if not isinstance(table, Mapping) or set(table) - {"steps", "rules"}:
        raise SettingsError(f"{_ESCALATION_HELP}.")
    per_rule = table.get("rules", {})
    if not isinstance(per_rule, Mapping) or set(per_rule) - rules:
        raise SettingsError(f"{_ESCALATION_HELP}; las reglas son: {', '.join(sorted(rules))}.")
    return _steps(table.get("steps", []), "steps"), {str(r): _steps(v, f"rules.{r}") for r, v in per_rule.items()}


def _steps(listed: Any, where: str) -> tuple[EscalationStep, ...]:
    if not isinstance(listed, list):
        raise SettingsError(f"[alerts.escalation] {where} es una lista de pasos. {_ESCALATION_HELP}.")
    steps = []
    for n, step in enumerate(listed, start=1):
        minutes = step.get("after_minutes") if isinstance(step, Mapping) else None
        if (
            not isinstance(step, Mapping)
            or set(step) != {"after_minutes", "tags"}
            or isinstance(minutes, bool)
            or not isinstance(minutes, int | float)
            or not 1 <= minutes <= 10_080
            or not _is_tag_list(step["tags"])
            or not step["tags"]
        ):
            raise SettingsError(
                f"El paso {n} de [alerts.escalation] {where} necesita after_minutes (de 1 a 10 080) y tags "
                f"(una lista de etiquetas de canales). {_ESCALATION_HELP}."
            )
        steps.append(EscalationStep(timedelta(minutes=minutes), frozenset(str(t).strip() for t in step["tags"])))
    return tuple(steps)


def _table_numbers(
    raw: Mapping[str, Any], sources: Mapping[str, tuple[str, str]], specs: Mapping[str, dataclasses.Field[Any]], table: str
) -> dict[str, Any]:
    """The numeric settings of a table, each checked against its field's type and range."""
    return {
        name: _parse_number(
            raw[name],
            spec.default,
            f"{sources[name][0]} / [{table}].{name}",
            spec.metadata["kind"],
            minimum=spec.metadata["minimum"],
            maximum=spec.metadata["maximum"],
        )
        for name, spec in specs.items()
    }


def _is_tag_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(t, str) and t.strip() for t in value)


def _channel(where: str, url: Any, tags: Any) -> Channel:
    """A channel, its URL checked and masked by Apprise; an error names the channel and its scheme, never the URL."""
    if not isinstance(url, str) or "://" not in url:
        raise SettingsError(
            f'{where} necesita url = "servicio://…" (una dirección de Apprise, p. ej. mailto://, tgram://, json://).'
        )
    if not _is_tag_list(tags):
        raise SettingsError(f'{where}: tags es una lista de textos, p. ej. tags = ["santa-cruz"].')
    import apprise  # only a configuration with channels needs it

    plugin = apprise.Apprise.instantiate(url.strip())
    scheme = url.split("://", 1)[0]
    if plugin is None:
        raise SettingsError(f"{where} ({scheme}://…) no es una dirección que Apprise entienda: revise el servicio y sus datos.")
    # A slow hash: the fingerprint is shown to viewers, and a fast one would let them test guesses of a
    # weak password (the rest of the URL is known) offline.
    fingerprint = hashlib.pbkdf2_hmac("sha256", url.strip().encode(), b"contingencia/alerts", 50_000).hex()[:12]
    return Channel(
        url=url.strip(),
        tags=frozenset(str(t).strip() for t in tags),
        label=_channel_label(scheme, getattr(plugin, "host", None), fingerprint),
        fingerprint=fingerprint,
    )


# A server's name or address. For some services (Telegram, Slack, Discord) what Apprise calls the host is a
# bot id or a token: those are not shown.
_SERVER = re.compile(r"localhost|(?=[^.]*\.)[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]")


def _channel_label(scheme: str, host: object, fingerprint: str) -> str:
    """What people see of a channel (Alertas, the outbox, the log): the scheme, the server when it is one,
    and the fingerprint. Apprise's masked URL keeps paths and topics (json://host/hook/SECRET,
    ntfy://ntfy.sh/SECRET-TOPIC), so nothing of the path, user, password or query is shown."""
    server = str(host or "")
    return f"{scheme.lower()[:20]}://{server if _SERVER.fullmatch(server) else '…'} · {fingerprint}"


# ---- [policy] ---------------------------------------------------------------------------------

POLICY_ENV_PREFIX = f"{ENV_PREFIX}POLICY_"


@dataclass(frozen=True)
class PolicySettings:
    """``[policy]`` of secrets.toml (numbers and mode also ``CUCU_POLICY_<NAME>``): the automatic
    contingency, off unless configured (see cucu/events/policy.py)."""

    mode: PolicyMode = PolicyMode.OFF
    down_minutes: float = _number(float, 5, 1, 1440)  # SIAT down this long: start motive 2 where there is no event
    up_checks: int = _number(int, 3, 1, 1000)  # SIAT answering this many checks in a row: end what the policy started
    max_pos_per_run: int = _number(int, 1000, 1, 100_000)  # POS started or ended per round at most; the next round goes on
    # What keeps it from acting on noise, storming or flapping (README, "Política automática"):
    max_starts_per_outage: int = _number(int, 10000, 1, 1_000_000)  # starts sent in one SIAT outage at most
    max_starts_per_hour: int = _number(int, 10000, 1, 1_000_000)  # starts sent in any hour at most
    max_starts_per_pos_per_day: int = _number(int, 3, 1, 100)  # starts of one POS in 24 h at most
    backoff_minutes: float = _number(
        float, 2, 0.1, 1440
    )  # a POS whose start or end failed waits this, doubled per failure (1 h max)
    refusals_to_halt: int = _number(int, 5, 1, 100_000)  # this many failed starts in a row: it stops and alerts until resumed
    rearm_minutes: float = _number(float, 15, 0, 1440)  # after it ended events, SIAT stable this long before it acts again
    cooldown_minutes: float = _number(float, 30, 0, 10_080)  # a POS whose event was ended is not started again within this
    branches: tuple[str, ...] = ()  # the scope: branch names or ids; empty: every branch
    # While a maintenance window runs over a POS: nothing, or (a SIAT window) start at its start.
    maintenance: PolicyMaintenance = PolicyMaintenance.NOTHING


_POLICY_SOURCES = env_sources((f for f in dataclasses.fields(PolicySettings) if f.name != "branches"), POLICY_ENV_PREFIX)
_POLICY_NUMBERS = {f.name: f for f in dataclasses.fields(PolicySettings) if "minimum" in f.metadata}


def load_policy(section: Mapping[str, Any] | None, environ: Mapping[str, str]) -> PolicySettings:
    section = dict(section or {})
    known = {key for _, key in _POLICY_SOURCES.values()} | {"branches"}
    unknown = sorted(set(section) - known)
    if unknown:
        raise SettingsError(
            f"La tabla [policy] tiene claves desconocidas: {', '.join(unknown)}. Se admiten: {', '.join(sorted(known))}."
        )
    raw = merge_sources(_POLICY_SOURCES, section, environ)
    mode = str(raw["mode"] or PolicyMode.OFF.value).strip().lower()
    if mode not in tuple(PolicyMode):
        raise SettingsError(
            f"[policy].mode ({_POLICY_SOURCES['mode'][0]}) es off, dry-run (solo avisa lo que haría) u on; se recibió «{raw['mode']}»."
        )
    maintenance = str(raw["maintenance"] or PolicyMaintenance.NOTHING.value).strip().lower()
    if maintenance not in tuple(PolicyMaintenance):
        raise SettingsError(
            f"[policy].maintenance ({_POLICY_SOURCES['maintenance'][0]}) es nothing (no actúa durante un mantenimiento) "
            f"o start (inicia contingencia al empezar un mantenimiento de SIAT); se recibió «{raw['maintenance']}»."
        )
    branches = section.get("branches", [])
    if not _is_tag_list(branches) and branches != []:
        raise SettingsError(
            '[policy].branches es una lista de sucursales (nombres o ids), p. ej. branches = ["Casa Matriz"]; vacía: todas.'
        )
    numbers = _table_numbers(raw, _POLICY_SOURCES, _POLICY_NUMBERS, "policy")
    return PolicySettings(
        mode=PolicyMode(mode),
        branches=tuple(str(b).strip() for b in branches),
        maintenance=PolicyMaintenance(maintenance),
        **numbers,
    )
