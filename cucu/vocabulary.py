"""The dashboard's closed sets: one enum each, with its Spanish label, and its icon where the UI shows one.

Every module, page and test names these members; no other module spells their values. A value
that is stored (audit outcomes and actions, roles, error kinds) or carried in a URL (POS states)
never changes: a new wording goes in ``label``. Icons are emoji where they go into table cells
and text, Material names (``:material/…:``) where Streamlit draws them as icons.

Each set's words, icons and tones are in one table right after its class (``_ROLE``, ``_OUTCOME``…),
a ``NamedTuple`` per member when the set has several (``RoleLook``…), and its properties only read
that table. Where the value is the label (frames, filters and URLs carry it as shown), ``label`` is
the value and the table holds the rest.
"""

from __future__ import annotations

import enum
from enum import StrEnum
from typing import Literal, NamedTuple

from cucu.formatting import fmt_count, plural

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
        return _TONE[self].color

    @property
    def icon(self) -> str:
        """An emoji for table cells and text ("" for no tone)."""
        return _TONE[self].icon

    @property
    def chart_color(self) -> str:
        return _TONE[self].chart_color

    @property
    def material(self) -> str:
        """A Material icon name, for alerts and badges."""
        return _TONE[self].material

    @property
    def asks_action(self) -> bool:
        return self in (Tone.MANAGED, Tone.PROBLEM)

    def if_any(self, count: int | None) -> Tone:
        """This tone when ``count`` is above zero, none otherwise: a KPI is coloured only when it asks for action."""
        return self if count else Tone.NONE


class ToneLook(NamedTuple):
    color: Color
    icon: str
    chart_color: str
    material: str


_TONE: dict[Tone, ToneLook] = {
    Tone.OK: ToneLook("green", "🟢", "#1f9d55", "check_circle"),
    Tone.MANAGED: ToneLook("orange", "🟠", "#e8710a", "warning"),
    Tone.PROBLEM: ToneLook("red", "🔴", "#d93025", "error"),
    Tone.UNKNOWN: ToneLook("gray", "⚪", "#9aa0a6", "help"),
    Tone.NONE: ToneLook("gray", "", "#5f6368", "info"),
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
        return _MOTIVE[self]


_MOTIVE: dict[Motive, str] = {
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
        return _MODE[self].color

    @property
    def icon(self) -> str:
        return _MODE[self].icon

    @property
    def description(self) -> str:
        return _MODE[self].description


class ModeLook(NamedTuple):
    color: Color
    icon: str
    description: str


_MODE: dict[Mode, ModeLook] = {
    Mode.DEMO: ModeLook("violet", ":material/science:", "Datos de demostración: el simulador local de cucu."),
    Mode.SANDBOX: ModeLook("orange", ":material/construction:", "Conectado al sandbox de cucu (sandbox.cucu.bo)."),
    Mode.PRODUCTION: ModeLook("blue", ":material/verified:", "Conectado al servicio de cucu en producción."),
}


# ---- people -------------------------------------------------------------------------------


class AccessMode(StrEnum):
    """How people sign in (``[access].mode``): see :mod:`cucu.access`."""

    OIDC = "oidc"  # Streamlit's st.login against the company's identity provider
    PROXY = "proxy"  # a reverse proxy authenticates and passes the user in a header
    OFF = "off"  # nobody signs in


class Role(StrEnum):
    """What a person may do, the least first. The values are what ``[access]`` tables and the audit log hold."""

    DISPLAY = "pantalla"  # a wall display's account: the Pantalla page only, read-only
    VIEWER = "viewer"
    SUPERVISOR = "supervisor"

    @property
    def label(self) -> str:
        return _ROLE[self].label

    @property
    def can_act(self) -> bool:
        """Starting and ending events is for supervisors (checked by the actions service at every call)."""
        return self is Role.SUPERVISOR

    @property
    def color(self) -> Color:
        return _ROLE[self].color


class RoleLook(NamedTuple):
    label: str
    color: Color  # blue for whoever can act, grey for whoever only reads


_ROLE: dict[Role, RoleLook] = {
    Role.DISPLAY: RoleLook("Pantalla", "gray"),
    Role.VIEWER: RoleLook("Observador", "gray"),
    Role.SUPERVISOR: RoleLook("Supervisor", "blue"),
}


# ---- actions and their audit ----------------------------------------------------------------


class ActionKind(StrEnum):
    """What an audited attempt tried (stored in ``audit_log.action``). Pausing and resuming the automatic
    policy, acknowledging an alert, writing a note on it and scheduling or cancelling maintenance are audited too; they concern no POS (their rows
    carry an empty POS id, and an alert's its branch id, if any)."""

    START = "iniciar"
    END = "finalizar"
    PAUSE_POLICY = "pausar_politica"
    RESUME_POLICY = "reanudar_politica"
    RENEW_CUFD = "renovar_cufd"
    ACKNOWLEDGE = "atender_alerta"  # "Lo atiendo"
    NOTE = "nota_alerta"
    SCHEDULE_MAINTENANCE = "programar_mantenimiento"
    CANCEL_MAINTENANCE = "cancelar_mantenimiento"
    MARK_MAINTENANCE = "marcar_mantenimiento"  # a past period, after the fact

    @property
    def label(self) -> str:
        return _ACTION_KIND[self].label

    @property
    def past(self) -> str:
        """As in "el evento se inició"."""
        return _ACTION_KIND[self].past

    def done_of(self, done: int, total: int) -> str:
        """How many of how many were done, the word agreeing with the total: "0 de 1 iniciado", "3 de 4 iniciados",
        "1 500 de 2 000 renovados"."""
        look = _ACTION_KIND[self]
        return f"{fmt_count(done)} de {plural(total, look.done_one, look.done_many)}"


class ActionKindLook(NamedTuple):
    label: str
    past: str
    done_one: str
    done_many: str


_ACTION_KIND: dict[ActionKind, ActionKindLook] = {
    ActionKind.START: ActionKindLook("Iniciar", "inició", "iniciado", "iniciados"),
    ActionKind.END: ActionKindLook("Finalizar", "finalizó", "finalizado", "finalizados"),
    ActionKind.PAUSE_POLICY: ActionKindLook("Pausar política", "pausó", "pausado", "pausados"),
    ActionKind.RESUME_POLICY: ActionKindLook("Reanudar política", "reanudó", "reanudado", "reanudados"),
    ActionKind.RENEW_CUFD: ActionKindLook("Renovar CUFD", "renovó", "renovado", "renovados"),
    ActionKind.ACKNOWLEDGE: ActionKindLook("Atender alerta", "atendió", "atendida", "atendidas"),
    ActionKind.NOTE: ActionKindLook("Nota en alerta", "anotó", "anotada", "anotadas"),
    ActionKind.SCHEDULE_MAINTENANCE: ActionKindLook("Programar mantenimiento", "programó", "programado", "programados"),
    ActionKind.CANCEL_MAINTENANCE: ActionKindLook("Cancelar mantenimiento", "canceló", "cancelado", "cancelados"),
    ActionKind.MARK_MAINTENANCE: ActionKindLook("Marcar mantenimiento", "marcó", "marcado", "marcados"),
}


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
        return _OUTCOME[self].label

    @property
    def icon(self) -> str:
        return _OUTCOME[self].icon

    def counted(self, n: int) -> str:
        """As in "2 de 6 iniciados · 4 omitidos": ``1 omitido``, ``4 omitidos``, ``1 con error``."""
        look = _OUTCOME[self]
        return plural(n, look.counted_one, look.counted_many)


class OutcomeLook(NamedTuple):
    label: str
    icon: str
    counted_one: str
    counted_many: str


_OUTCOME: dict[Outcome, OutcomeLook] = {
    Outcome.PENDING: OutcomeLook("En curso", "⏳", "en curso", "en curso"),
    Outcome.VERIFYING: OutcomeLook("En verificación", "🔎", "en verificación", "en verificación"),
    Outcome.OK: OutcomeLook("Hecho", "✅", "hecho", "hechos"),
    Outcome.REJECTED: OutcomeLook("Rechazado por cucu", "⛔", "rechazado por cucu", "rechazados por cucu"),
    Outcome.ERROR: OutcomeLook("Error", "❌", "con error", "con error"),
    Outcome.UNCERTAIN: OutcomeLook("Sin confirmar", "❓", "sin confirmar", "sin confirmar"),
    Outcome.SKIPPED: OutcomeLook("Omitido", "⏭️", "omitido", "omitidos"),
    Outcome.DUPLICATE: OutcomeLook("Duplicado", "🔁", "duplicado", "duplicados"),
    Outcome.DENIED: OutcomeLook("Sin permiso", "🚫", "sin permiso", "sin permiso"),
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
        return _CHECK_STATE[self].tone

    @property
    def color(self) -> Color:
        """Streamlit's colour name (badges, coloured text)."""
        return self.tone.color

    @property
    def chart_color(self) -> str:
        return self.tone.chart_color

    @property
    def icon(self) -> str:
        return _CHECK_STATE[self].icon


class CheckStateLook(NamedTuple):
    tone: Tone
    icon: str


_CHECK_STATE: dict[CheckState, CheckStateLook] = {
    CheckState.ONLINE: CheckStateLook(Tone.OK, ":material/check_circle:"),
    CheckState.SIAT_DOWN: CheckStateLook(Tone.PROBLEM, ":material/error:"),
    CheckState.CUCU_UNREACHABLE: CheckStateLook(Tone.UNKNOWN, ":material/cloud_off:"),
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
        return _SIAT_STATUS[self].label

    @property
    def tone(self) -> Tone:
        return _SIAT_STATUS[self].tone

    @property
    def color(self) -> Color:
        """Streamlit's colour name. Contingency is amber elsewhere; SIAT down is red here."""
        return self.tone.color

    @property
    def icon(self) -> str:
        """A Material icon name."""
        return _SIAT_STATUS[self].icon


class SiatStatusLook(NamedTuple):
    label: str
    tone: Tone
    icon: str


_SIAT_STATUS: dict[SiatStatus, SiatStatusLook] = {
    SiatStatus.OPERATIONAL: SiatStatusLook("Operativo", Tone.OK, "check_circle"),
    SiatStatus.INTERMITTENT: SiatStatusLook("Intermitente", Tone.MANAGED, "warning"),
    SiatStatus.DOWN: SiatStatusLook("Caído", Tone.PROBLEM, "error"),
    SiatStatus.CUCU_SILENT: SiatStatusLook("cucu no responde", Tone.UNKNOWN, "cloud_off"),
    SiatStatus.NO_DATA: SiatStatusLook("Sin datos", Tone.UNKNOWN, "help"),
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
        return _POS_STATE[self]

    @property
    def icon(self) -> str:
        return self.tone.icon


_POS_STATE: dict[PosState, Tone] = {
    PosState.NORMAL: Tone.OK,
    PosState.CONTINGENCY: Tone.MANAGED,
    PosState.UNKNOWN: Tone.UNKNOWN,
}


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
        return _ALERT_RULE[self]


_ALERT_RULE: dict[AlertRule, str] = {
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
    ESCALATED = "escalamiento"  # nobody acknowledged it: to the channels of the next [alerts.escalation] step

    @property
    def label(self) -> str:
        return _ALERT_KIND[self]


_ALERT_KIND: dict[AlertKind, str] = {
    AlertKind.OPENED: "Alerta",
    AlertKind.REMINDER: "Recordatorio",
    AlertKind.CLOSED: "Resuelta",
    AlertKind.TEST: "Prueba",
    AlertKind.ESCALATED: "Escalada",
}


class Delivery(StrEnum):
    """Where a message to one channel stands (derived from its outbox row, not stored)."""

    WAITING = "en_cola"
    DELIVERED = "entregado"
    GAVE_UP = "abandonado"

    @property
    def label(self) -> str:
        """Its icon and words together, as Alertas' table of sent messages shows them."""
        return f"{self.icon} {_DELIVERY[self].words}"

    @property
    def icon(self) -> str:
        return _DELIVERY[self].icon


class DeliveryLook(NamedTuple):
    words: str
    icon: str


_DELIVERY: dict[Delivery, DeliveryLook] = {
    Delivery.WAITING: DeliveryLook("En cola", "⏳"),
    Delivery.DELIVERED: DeliveryLook("Entregado", "✅"),
    Delivery.GAVE_UP: DeliveryLook("No se pudo entregar", "❌"),
}


# ---- the automatic policy ---------------------------------------------------------------------


class PolicyMode(StrEnum):
    """``[policy].mode``: off (the default), a dry run that only says what it would do, or on."""

    OFF = "off"
    DRY_RUN = "dry-run"
    ON = "on"

    @property
    def label(self) -> str:
        return _POLICY_MODE[self]


_POLICY_MODE: dict[PolicyMode, str] = {
    PolicyMode.OFF: "Apagada",
    PolicyMode.DRY_RUN: "Simulación",
    PolicyMode.ON: "Activa",
}


class PolicyMaintenance(StrEnum):
    """``[policy].maintenance``: what the policy does while a maintenance window runs over a POS. Nothing (the
    default: the supervisor who scheduled it owns those POS), or, for a window that holds "SIAT no responde"
    (SIAT's announced maintenance), start motive 2 at the window's start."""

    NOTHING = "nothing"
    START = "start"

    @property
    def label(self) -> str:
        return _POLICY_MAINTENANCE[self]


_POLICY_MAINTENANCE: dict[PolicyMaintenance, str] = {
    PolicyMaintenance.NOTHING: "No actúa durante un mantenimiento",
    PolicyMaintenance.START: "Inicia al empezar un mantenimiento de SIAT",
}


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
        return _POLICY_STATE[self].label

    @property
    def tone(self) -> Tone:
        """Acting means starting contingency, the managed state (amber); halted waits for a person (red)."""
        return _POLICY_STATE[self].tone

    @property
    def color(self) -> Color:
        return self.tone.color


class PolicyStateLook(NamedTuple):
    label: str
    tone: Tone


_POLICY_STATE: dict[PolicyState, PolicyStateLook] = {
    PolicyState.OFF: PolicyStateLook("Apagada", Tone.NONE),
    PolicyState.PAUSED: PolicyStateLook("En pausa", Tone.MANAGED),
    PolicyState.ARMED: PolicyStateLook("Armada", Tone.OK),
    PolicyState.WAITING: PolicyStateLook("Esperando", Tone.MANAGED),
    PolicyState.ACTING: PolicyStateLook("Actuando", Tone.MANAGED),
    PolicyState.HALTED: PolicyStateLook("Detenida", Tone.PROBLEM),
}


# ---- what to do now ---------------------------------------------------------------------------


class QueueKind(StrEnum):
    """A reason a person must act: the kinds of Estado's one queue ("Qué hacer ahora"). Stored nowhere."""

    CANNOT_INVOICE = "no_puede_facturar"  # CUFD expired, inactive or missing
    CUFD_EXPIRING = "cufd_por_vencer"
    INVOICES_DUE = "facturas_por_enviar"  # an ended event's offline invoices, by their deadline
    REJECTED = "factura_rechazada"
    LONG_OPEN = "abierto_hace_mucho"
    UNACKNOWLEDGED = "alerta_sin_atender"
    VERIFYING = "en_verificacion"  # an action whose outcome is still being verified
    READY_TO_END = "listo_para_finalizar"  # an open event whose invoices all reached SIAT

    @property
    def label(self) -> str:
        return _QUEUE_KIND[self]

    def counted(self, n: int) -> str:
        """How many, in Spanish: "1 factura rechazada", "28 facturas rechazadas", "2 puntos de venta no pueden facturar"."""
        return plural(n, *_QUEUE_KIND_COUNTED[self])


_QUEUE_KIND_COUNTED: dict[QueueKind, tuple[str, str]] = {
    QueueKind.CANNOT_INVOICE: ("punto de venta no puede facturar", "puntos de venta no pueden facturar"),
    QueueKind.CUFD_EXPIRING: ("CUFD por vencer", "CUFD por vencer"),
    QueueKind.INVOICES_DUE: ("factura por enviar", "facturas por enviar"),
    QueueKind.REJECTED: ("factura rechazada", "facturas rechazadas"),
    QueueKind.LONG_OPEN: ("evento abierto hace mucho", "eventos abiertos hace mucho"),
    QueueKind.UNACKNOWLEDGED: ("alerta sin atender", "alertas sin atender"),
    QueueKind.VERIFYING: ("acción en verificación", "acciones en verificación"),
    QueueKind.READY_TO_END: ("evento por finalizar", "eventos por finalizar"),
}

_QUEUE_KIND: dict[QueueKind, str] = {
    QueueKind.CANNOT_INVOICE: "No puede facturar",
    QueueKind.CUFD_EXPIRING: "CUFD por vencer",
    QueueKind.INVOICES_DUE: "Facturas por enviar",
    QueueKind.REJECTED: "Factura rechazada",
    QueueKind.LONG_OPEN: "Abierto hace mucho",
    QueueKind.UNACKNOWLEDGED: "Alerta sin atender",
    QueueKind.VERIFYING: "En verificación",
    QueueKind.READY_TO_END: "Evento por finalizar",
}


# ---- outages ------------------------------------------------------------------------------


class OutageKind(StrEnum):
    """What an outage of the dossier was: SIAT down by the one rule, or a branch's internet (motive-1 events of
    several of its POS within minutes)."""

    SIAT = "siat"
    BRANCH_INTERNET = "internet_sucursal"

    @property
    def label(self) -> str:
        return _OUTAGE_KIND[self]


_OUTAGE_KIND: dict[OutageKind, str] = {
    OutageKind.SIAT: "SIAT no responde",
    OutageKind.BRANCH_INTERNET: "Internet de la sucursal",
}


class OutageState(StrEnum):
    """Where an outage stands: going on; over, with an event still open or offline invoices still to settle
    before their deadline; or closed (its events ended, every invoice settled or past its deadline). The values
    are the labels."""

    ONGOING = "En curso"
    SETTLING = "Por cerrar"
    CLOSED = "Cerrada"

    @property
    def label(self) -> str:
        return self.value

    @property
    def tone(self) -> Tone:
        return _OUTAGE_STATE[self]

    def counted(self, n: int) -> str:
        """How many, in Spanish: "1 en curso", "3 por cerrar", "129 cerradas"."""
        return plural(n, *_OUTAGE_STATE_COUNTED[self])

    @property
    def icon(self) -> str:
        return self.tone.icon


_OUTAGE_STATE_COUNTED: dict[OutageState, tuple[str, str]] = {
    OutageState.ONGOING: ("en curso", "en curso"),
    OutageState.SETTLING: ("por cerrar", "por cerrar"),
    OutageState.CLOSED: ("cerrada", "cerradas"),
}

_OUTAGE_STATE: dict[OutageState, Tone] = {
    OutageState.ONGOING: Tone.PROBLEM,
    OutageState.SETTLING: Tone.MANAGED,
    OutageState.CLOSED: Tone.OK,
}


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
        """What a filter offers and a URL carries (``?estado_factura=Rechazada``): no icon."""
        return _INVOICE_STATE[self].label

    @property
    def tone(self) -> Tone:
        """Still to reach SIAT is handled (amber, as "Por enviar" of an event's closing); a rejection is red."""
        return _INVOICE_STATE[self].tone

    @property
    def icon(self) -> str:
        return self.tone.icon


class InvoiceStateLook(NamedTuple):
    label: str
    tone: Tone


_INVOICE_STATE: dict[InvoiceState, InvoiceStateLook] = {
    InvoiceState.PENDING: InvoiceStateLook("Pendiente", Tone.MANAGED),
    InvoiceState.VALIDATED: InvoiceStateLook("Validada", Tone.OK),
    InvoiceState.REJECTED: InvoiceStateLook("Rechazada", Tone.PROBLEM),
    InvoiceState.CANCELLED: InvoiceStateLook("Anulada", Tone.NONE),  # nothing left to do
    InvoiceState.CONTINGENCY: InvoiceStateLook("Por enviar (fuera de línea)", Tone.MANAGED),
}


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
    def stops_invoicing(self) -> bool:
        """Known to stop the POS invoicing (expired, inactive, none): Estado's "No puede facturar". Never read is
        not known to."""
        return _CUFD_HEALTH[self].why_not is not None

    @property
    def why_not(self) -> str | None:
        """Why the POS cannot invoice, after "No puede facturar" ("No puede facturar (vencido)"); None if it can,
        or if the CUFD was never read."""
        return _CUFD_HEALTH[self].why_not

    @property
    def cannot_invoice_text(self) -> str | None:
        """A POS's state where this CUFD stops it invoicing, in the words of Estado's queue: "🔴 No puede facturar
        (vencido)"; None where it does not."""
        why = self.why_not
        return f"{self.icon} {QueueKind.CANNOT_INVOICE.label} ({why})" if why else None

    @property
    def tone(self) -> Tone:
        """Without a valid CUFD a POS cannot invoice at all, not even offline: red."""
        return _CUFD_HEALTH[self].tone

    @property
    def icon(self) -> str:
        return self.tone.icon


class CufdHealthLook(NamedTuple):
    tone: Tone
    why_not: str | None  # short: it follows "No puede facturar" in a grid cell of Eventos activos


_CUFD_HEALTH: dict[CufdHealth, CufdHealthLook] = {
    CufdHealth.VALID: CufdHealthLook(Tone.OK, None),
    CufdHealth.EXPIRING: CufdHealthLook(Tone.MANAGED, None),
    CufdHealth.EXPIRED: CufdHealthLook(Tone.PROBLEM, "vencido"),
    CufdHealth.INACTIVE: CufdHealthLook(Tone.PROBLEM, "inactivo"),
    CufdHealth.MISSING: CufdHealthLook(Tone.PROBLEM, "sin CUFD"),
    CufdHealth.UNKNOWN: CufdHealthLook(Tone.UNKNOWN, None),
}


class EventClosing(StrEnum):
    """Where an ended event's offline invoices stand. The values are the labels."""

    CLOSED = "Cerrado"  # every invoice issued while it was open is validated (or cancelled)
    TO_SEND = "Por enviar"
    REJECTED = "Con rechazos"
    NO_INVOICES = "Sin facturas"

    @property
    def icon(self) -> str:
        """An emoji for Facturas' table of ended events, beside the value."""
        return _EVENT_CLOSING[self]


_EVENT_CLOSING: dict[EventClosing, str] = {
    EventClosing.CLOSED: "✅",
    EventClosing.TO_SEND: "🟠",
    EventClosing.REJECTED: "🔴",
    EventClosing.NO_INVOICES: "⚪",
}
