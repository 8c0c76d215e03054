"""The dashboard's closed sets: one ``StrEnum`` each, with its Spanish label and icon beside it.

Every module, page and test names these members; no other module spells their values. A value
that is stored (audit outcomes and actions, roles, error kinds) or carried in a URL (POS states)
never changes: a new wording goes in ``label``. Icons are emoji where they go into table cells
and text, Material names (``:material/…:``) where Streamlit draws them as icons.
"""

from __future__ import annotations

import enum
from enum import StrEnum
from typing import Literal

from cucu.formatting import plural

# The colour names Streamlit's badges and coloured text accept (no Streamlit import here).
Color = Literal["red", "orange", "yellow", "blue", "green", "violet", "gray", "grey", "primary"]


class Tone(StrEnum):
    """What a colour means: one meaning on every page, for tiles, KPIs, badges, grid cells and charts.

    Contingency is the expected, managed state: amber, never red. Red is for what stops invoicing or
    needs a person now (SIAT down, an expired CUFD, a rejection, a deadline passed). Grey is not known.
    A figure that asks nothing of anyone has no colour at all, so the coloured ones stand out.
    """

    OK = "ok"
    MANAGED = "gestionado"  # in contingency, due soon, intermittent: watched, handled
    PROBLEM = "problema"
    UNKNOWN = "desconocido"
    NONE = "neutro"

    @property
    def color(self) -> Color:
        """Streamlit's colour name (badges, coloured text, a metric's delta)."""
        return _TONE_STYLE[self][0]

    @property
    def icon(self) -> str:
        """An emoji for table cells and text ("" for no tone)."""
        return _TONE_STYLE[self][1]

    @property
    def chart_color(self) -> str:
        return _TONE_STYLE[self][2]

    @property
    def material(self) -> str:
        """A Material icon name, for alerts and badges."""
        return _TONE_STYLE[self][3]

    @property
    def asks_action(self) -> bool:
        return self in (Tone.MANAGED, Tone.PROBLEM)

    def if_any(self, count: int | None) -> Tone:
        """This tone when ``count`` is above zero, none otherwise: a KPI is coloured only when it asks for action."""
        return self if count else Tone.NONE


_TONE_STYLE: dict[Tone, tuple[Color, str, str, str]] = {
    Tone.OK: ("green", "🟢", "#1f9d55", "check_circle"),
    Tone.MANAGED: ("orange", "🟠", "#e8710a", "warning"),
    Tone.PROBLEM: ("red", "🔴", "#d93025", "error"),
    Tone.UNKNOWN: ("gray", "⚪", "#9aa0a6", "help"),
    Tone.NONE: ("gray", "", "#5f6368", "info"),
}


# ---- the cucu API ------------------------------------------------------------------------


class Motive(enum.IntEnum):
    """cucu's own motive codes (``codigoMotivo``), not SIAT's catalogue of seven."""

    INTERNET_OUTAGE = 1
    SIAT_FAILURE = 2
    VIRUS = 3
    OTHER = 4

    @property
    def label(self) -> str:
        return _MOTIVE_LABELS[self]


_MOTIVE_LABELS = {
    Motive.INTERNET_OUTAGE: "Corte de internet",
    Motive.SIAT_FAILURE: "Falla SIAT",
    Motive.VIRUS: "Virus informático",
    Motive.OTHER: "Otro",
}


class EventState(StrEnum):
    """An event in Historial: still open, or ended (the values are what its table shows)."""

    ACTIVE = "Activo"
    ENDED = "Finalizado"

    @property
    def label(self) -> str:
        return self.value


# ---- where the dashboard runs ---------------------------------------------------------------


class Mode(StrEnum):
    """Which cucu the dashboard talks to: the built-in simulator, the sandbox, or production."""

    DEMO = "DEMO"
    SANDBOX = "SANDBOX"
    PRODUCTION = "PRODUCCIÓN"

    @property
    def label(self) -> str:
        return self.value

    @property
    def color(self) -> Color:
        colors: dict[Mode, Color] = {Mode.DEMO: "violet", Mode.SANDBOX: "orange", Mode.PRODUCTION: "blue"}
        return colors[self]

    @property
    def icon(self) -> str:
        return {Mode.DEMO: ":material/science:", Mode.SANDBOX: ":material/construction:", Mode.PRODUCTION: ":material/verified:"}[
            self
        ]

    @property
    def description(self) -> str:
        return {
            Mode.DEMO: "Datos de demostración: el simulador local de cucu.",
            Mode.SANDBOX: "Conectado al sandbox de cucu (sandbox.cucu.bo).",
            Mode.PRODUCTION: "Conectado al servicio de cucu en producción.",
        }[self]


# ---- people -------------------------------------------------------------------------------


class AccessMode(StrEnum):
    """How people sign in (``[access].mode``): see :mod:`cucu.access`."""

    OIDC = "oidc"  # Streamlit's st.login against the company's identity provider
    PROXY = "proxy"  # a reverse proxy authenticates and passes the user in a header
    OFF = "off"  # nobody signs in


class Role(StrEnum):
    """What a person may do. The values are what ``[access]`` tables and the audit log hold."""

    VIEWER = "viewer"
    SUPERVISOR = "supervisor"

    @property
    def label(self) -> str:
        return {Role.VIEWER: "Observador", Role.SUPERVISOR: "Supervisor"}[self]

    @property
    def can_act(self) -> bool:
        """Starting and ending events is for supervisors (checked by the actions service at every call)."""
        return self is Role.SUPERVISOR

    @property
    def color(self) -> Color:
        return "blue" if self.can_act else "gray"


# ---- actions and their audit ----------------------------------------------------------------


class ActionKind(StrEnum):
    """What an audited attempt tried (stored in ``audit_log.action``). Pausing and resuming the automatic
    policy are audited too; they concern no POS (their rows carry empty branch and POS ids)."""

    START = "iniciar"
    END = "finalizar"
    PAUSE_POLICY = "pausar_politica"
    RESUME_POLICY = "reanudar_politica"
    RENEW_CUFD = "renovar_cufd"

    @property
    def label(self) -> str:
        return {
            ActionKind.START: "Iniciar",
            ActionKind.END: "Finalizar",
            ActionKind.PAUSE_POLICY: "Pausar política",
            ActionKind.RESUME_POLICY: "Reanudar política",
            ActionKind.RENEW_CUFD: "Renovar CUFD",
        }[self]

    @property
    def past(self) -> str:
        """As in "el evento se inició"."""
        return {
            ActionKind.START: "inició",
            ActionKind.END: "finalizó",
            ActionKind.PAUSE_POLICY: "pausó",
            ActionKind.RESUME_POLICY: "reanudó",
            ActionKind.RENEW_CUFD: "renovó",
        }[self]

    @property
    def done_plural(self) -> str:
        """As in "3 de 4 iniciados"."""
        return {
            ActionKind.START: "iniciados",
            ActionKind.END: "finalizados",
            ActionKind.PAUSE_POLICY: "pausados",
            ActionKind.RESUME_POLICY: "reanudados",
            ActionKind.RENEW_CUFD: "renovados",
        }[self]


EVENT_ACTIONS = (ActionKind.START, ActionKind.END)  # the actions on a POS's contingency event


class Outcome(StrEnum):
    """How an audited attempt ended (stored in ``audit_log.outcome``)."""

    PENDING = "pendiente"  # written before the call; the database allows one open attempt per POS
    VERIFYING = "verificando"  # the request may have reached cucu: open until cucu shows what happened
    OK = "ok"
    REJECTED = "rechazado"
    ERROR = "error"
    UNCERTAIN = "incierto"
    SKIPPED = "omitido"
    DUPLICATE = "duplicado"
    DENIED = "denegado"

    @property
    def label(self) -> str:
        return _OUTCOME_TEXT[self][0]

    @property
    def icon(self) -> str:
        return _OUTCOME_TEXT[self][1]

    def counted(self, n: int) -> str:
        """As in "2 de 6 iniciados · 4 omitidos": ``1 omitido``, ``4 omitidos``, ``1 con error``."""
        return plural(n, *_OUTCOME_COUNTED[self])


_OUTCOME_COUNTED = {
    Outcome.PENDING: ("en curso", "en curso"),
    Outcome.VERIFYING: ("en verificación", "en verificación"),
    Outcome.OK: ("hecho", "hechos"),
    Outcome.REJECTED: ("rechazado por cucu", "rechazados por cucu"),
    Outcome.ERROR: ("con error", "con error"),
    Outcome.UNCERTAIN: ("sin confirmar", "sin confirmar"),
    Outcome.SKIPPED: ("omitido", "omitidos"),
    Outcome.DUPLICATE: ("duplicado", "duplicados"),
    Outcome.DENIED: ("sin permiso", "sin permiso"),
}
_OUTCOME_TEXT = {
    Outcome.PENDING: ("En curso", "⏳"),
    Outcome.VERIFYING: ("En verificación", "🔎"),
    Outcome.OK: ("Hecho", "✅"),
    Outcome.REJECTED: ("Rechazado por cucu", "⛔"),
    Outcome.ERROR: ("Error", "❌"),
    Outcome.UNCERTAIN: ("Sin confirmar", "❓"),
    Outcome.SKIPPED: ("Omitido", "⏭️"),
    Outcome.DUPLICATE: ("Duplicado", "🔁"),
    Outcome.DENIED: ("Sin permiso", "🚫"),
}
# Attempts that still hold their POS: nothing else is sent for it until they settle.
OPEN_OUTCOMES = (Outcome.PENDING, Outcome.VERIFYING)


def stored_label(value: Role | ActionKind | Outcome | AlertRule | AlertKind | str) -> str:
    """The label of a value read from the database, or the raw value marked unknown when this version
    does not know it (the store reads those columns leniently: one odd row must not hide the others)."""
    if isinstance(value, Role | ActionKind | Outcome | AlertRule | AlertKind):
        return value.label
    return f"⚠ {value} (desconocido)"


# ---- connectivity -----------------------------------------------------------------------------


class CheckState(StrEnum):
    """What one ``check-connection`` found (stored as ``siat_ok``: True, False, or NULL, not as these
    values). The values are the labels: frames carry them as they are shown."""

    ONLINE = "SIAT en línea"
    SIAT_DOWN = "SIAT no responde"
    CUCU_UNREACHABLE = "Sin conexión con cucu"

    @classmethod
    def of(cls, siat_ok: bool | None) -> CheckState:
        if siat_ok is True:
            return cls.ONLINE
        return cls.SIAT_DOWN if siat_ok is False else cls.CUCU_UNREACHABLE

    @property
    def label(self) -> str:
        return self.value

    @property
    def tone(self) -> Tone:
        return _CHECK_STYLE[self][0]

    @property
    def color(self) -> Color:
        """Streamlit's colour name (badges, coloured text)."""
        return self.tone.color

    @property
    def chart_color(self) -> str:
        return self.tone.chart_color

    @property
    def icon(self) -> str:
        return _CHECK_STYLE[self][1]


_CHECK_STYLE: dict[CheckState, tuple[Tone, str]] = {
    CheckState.ONLINE: (Tone.OK, ":material/check_circle:"),
    CheckState.SIAT_DOWN: (Tone.PROBLEM, ":material/error:"),
    CheckState.CUCU_UNREACHABLE: (Tone.UNKNOWN, ":material/cloud_off:"),
}
MIXED_CAUSE = "SIAT no responde y sin conexión con cucu"  # an outage whose failed checks were of both kinds


class ErrorKind(StrEnum):
    """Why cucu could not be asked (stored in ``connectivity_checks.error_kind``)."""

    AUTH = "auth"
    RATE_LIMIT = "rate_limit"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    SERVER = "server"
    BAD_RESPONSE = "bad_response"
    OTHER = "other"


class SiatStatus(StrEnum):
    """SIAT in one word (Statuspage style), from the recent checks: see ``cucu.connectivity.rules.siat_rollup``."""

    OPERATIONAL = "operativo"
    INTERMITTENT = "intermitente"
    DOWN = "caido"
    CUCU_SILENT = "sin_cucu"  # cucu gave no answer: nothing is known of SIAT (never "Caído")
    NO_DATA = "sin_datos"

    @property
    def label(self) -> str:
        return _SIAT_STYLE[self][0]

    @property
    def tone(self) -> Tone:
        return _SIAT_STYLE[self][1]

    @property
    def color(self) -> Color:
        """Streamlit's colour name. Contingency is amber elsewhere; SIAT down is red here."""
        return self.tone.color

    @property
    def icon(self) -> str:
        """A Material icon name."""
        return _SIAT_STYLE[self][2]


_SIAT_STYLE: dict[SiatStatus, tuple[str, Tone, str]] = {
    SiatStatus.OPERATIONAL: ("Operativo", Tone.OK, "check_circle"),
    SiatStatus.INTERMITTENT: ("Intermitente", Tone.MANAGED, "warning"),
    SiatStatus.DOWN: ("Caído", Tone.PROBLEM, "error"),
    SiatStatus.CUCU_SILENT: ("cucu no responde", Tone.UNKNOWN, "cloud_off"),
    SiatStatus.NO_DATA: ("Sin datos", Tone.UNKNOWN, "help"),
}


# ---- points of sale ---------------------------------------------------------------------------


class PosState(StrEnum):
    """A POS by its last successful answer. The values are the labels: the URL filter carries them."""

    NORMAL = "Normal"
    CONTINGENCY = "En contingencia"
    UNKNOWN = "Desconocido"

    @property
    def label(self) -> str:
        return self.value

    @property
    def tone(self) -> Tone:
        """Contingency is managed (amber): the POS invoices offline, as it should while SIAT cannot be reached."""
        return {PosState.NORMAL: Tone.OK, PosState.CONTINGENCY: Tone.MANAGED, PosState.UNKNOWN: Tone.UNKNOWN}[self]

    @property
    def icon(self) -> str:
        return self.tone.icon


# ---- alerts -----------------------------------------------------------------------------------


class AlertRule(StrEnum):
    """What an incident is about (stored in ``incidents.rule``); each has its switch in ``[alerts.rules]``."""

    SIAT_DOWN = "siat_caido"
    LONG_OPEN = "contingencia_larga"
    WINDOW_CLOSING = "ventana_por_cerrar"  # the stored name stays: ended events whose invoices are not all validated
    NO_COLLECTOR = "sin_colector"
    CUCU_FAILING = "cucu_no_responde"
    UNSETTLED = "acciones_sin_resolver"
    POLICY = "politica_automatica"  # what the automatic policy did (or, in dry run, would do)
    CUFD = "cufd_por_vencer"  # POS that cannot invoice, or whose CUFD expires soon
    INVOICES_DEADLINE = "facturas_por_vencer"  # offline invoices whose 48 h deadline is close
    INVOICES_REJECTED = "facturas_rechazadas"

    @property
    def label(self) -> str:
        return _ALERT_RULE_LABELS[self]


_ALERT_RULE_LABELS = {
    AlertRule.SIAT_DOWN: "SIAT caído",
    AlertRule.LONG_OPEN: "Contingencia prolongada",
    AlertRule.WINDOW_CLOSING: "Eventos por cerrar",
    AlertRule.NO_COLLECTOR: "Nadie consulta cucu",
    AlertRule.CUCU_FAILING: "cucu no responde o rechaza la clave",
    AlertRule.UNSETTLED: "Acciones sin resolver",
    AlertRule.POLICY: "Política automática",
    AlertRule.CUFD: "CUFD vencido o por vencer",
    AlertRule.INVOICES_DEADLINE: "Facturas fuera de línea por vencer",
    AlertRule.INVOICES_REJECTED: "Facturas rechazadas",
}


class AlertKind(StrEnum):
    """Which message of an incident a delivery carries (stored in ``alert_outbox.kind``)."""

    OPENED = "apertura"
    REMINDER = "recordatorio"
    CLOSED = "cierre"
    TEST = "prueba"  # a supervisor's test message to every channel, with no incident

    @property
    def label(self) -> str:
        return {
            AlertKind.OPENED: "Alerta",
            AlertKind.REMINDER: "Recordatorio",
            AlertKind.CLOSED: "Resuelta",
            AlertKind.TEST: "Prueba",
        }[self]


class Delivery(StrEnum):
    """Where a message to one channel stands (derived from its outbox row, not stored)."""

    WAITING = "en_cola"
    DELIVERED = "entregado"
    GAVE_UP = "abandonado"

    @property
    def label(self) -> str:
        return {Delivery.WAITING: "⏳ En cola", Delivery.DELIVERED: "✅ Entregado", Delivery.GAVE_UP: "❌ No se pudo entregar"}[
            self
        ]


# ---- the automatic policy ---------------------------------------------------------------------


class PolicyMode(StrEnum):
    """``[policy].mode``: off (the default), a dry run that only says what it would do, or on."""

    OFF = "off"
    DRY_RUN = "dry-run"
    ON = "on"

    @property
    def label(self) -> str:
        return {PolicyMode.OFF: "Apagada", PolicyMode.DRY_RUN: "Simulación", PolicyMode.ON: "Activa"}[self]


class PolicyState(StrEnum):
    """Where the automatic policy stands (derived each round, not stored)."""

    OFF = "apagada"
    PAUSED = "en_pausa"
    ARMED = "armada"
    WAITING = "esperando"
    ACTING = "actuando"
    HALTED = "detenida"  # stopped by itself after repeated refusals, until a supervisor resumes it

    @property
    def label(self) -> str:
        return {
            PolicyState.OFF: "Apagada",
            PolicyState.PAUSED: "En pausa",
            PolicyState.ARMED: "Armada",
            PolicyState.WAITING: "Esperando",
            PolicyState.ACTING: "Actuando",
            PolicyState.HALTED: "Detenida",
        }[self]

    @property
    def tone(self) -> Tone:
        """Acting means starting contingency, the managed state (amber); halted waits for a person (red)."""
        tones = {
            PolicyState.OFF: Tone.NONE,
            PolicyState.PAUSED: Tone.MANAGED,
            PolicyState.ARMED: Tone.OK,
            PolicyState.WAITING: Tone.MANAGED,
            PolicyState.ACTING: Tone.MANAGED,
            PolicyState.HALTED: Tone.PROBLEM,
        }
        return tones[self]

    @property
    def color(self) -> Color:
        return self.tone.color


# ---- invoicing ----------------------------------------------------------------------------


class InvoiceState(StrEnum):
    """An invoice's state as cucu sends it (``state``); an unknown one is kept as its raw text."""

    PENDING = "PENDING"
    VALIDATED = "VALIDATED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    CONTINGENCY = "CONTINGENCY"  # issued offline during an event, still to be sent to SIAT

    @property
    def label(self) -> str:
        return {
            InvoiceState.PENDING: "Pendiente",
            InvoiceState.VALIDATED: "Validada",
            InvoiceState.REJECTED: "Rechazada",
            InvoiceState.CANCELLED: "Anulada",
            InvoiceState.CONTINGENCY: "Por enviar (fuera de línea)",
        }[self]


class CufdHealth(StrEnum):
    """Can a POS invoice? From its active CUFD as last read. The values are the labels (filters carry them)."""

    VALID = "Vigente"
    EXPIRING = "Vence pronto"  # valid, but within the alert setting (2 h by default)
    EXPIRED = "Vencido"
    INACTIVE = "Inactivo"
    MISSING = "Sin CUFD"  # cucu has none for the POS
    UNKNOWN = "Sin leer"  # never read, or never answered

    @property
    def can_invoice(self) -> bool:
        return self in (CufdHealth.VALID, CufdHealth.EXPIRING)

    @property
    def tone(self) -> Tone:
        """Without a valid CUFD a POS cannot invoice at all, not even offline: red."""
        return {
            CufdHealth.VALID: Tone.OK,
            CufdHealth.EXPIRING: Tone.MANAGED,
            CufdHealth.EXPIRED: Tone.PROBLEM,
            CufdHealth.INACTIVE: Tone.PROBLEM,
            CufdHealth.MISSING: Tone.PROBLEM,
            CufdHealth.UNKNOWN: Tone.UNKNOWN,
        }[self]

    @property
    def icon(self) -> str:
        return self.tone.icon


class EventClosing(StrEnum):
    """Where an ended event's offline invoices stand. The values are the labels."""

    CLOSED = "Cerrado"  # every invoice issued while it was open is validated (or cancelled)
    TO_SEND = "Por enviar"
    REJECTED = "Con rechazos"
    NO_INVOICES = "Sin facturas"
