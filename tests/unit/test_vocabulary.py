"""The closed sets: stored values never change, every member has its label, and the rules beside them."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Protocol

import pytest

from cucu import vocabulary
from cucu.periods import Preset
from cucu.vocabulary import (
    AccessMode,
    ActionKind,
    AlertKind,
    AlertRule,
    CheckState,
    CufdHealth,
    Delivery,
    ErrorKind,
    EventClosing,
    EventState,
    InvoiceState,
    Mode,
    Motive,
    OutageKind,
    OutageState,
    Outcome,
    PolicyMaintenance,
    PolicyMode,
    PolicyState,
    PosState,
    QueueKind,
    Role,
    SiatStatus,
    Tone,
)


def test_stored_values_are_the_ones_older_databases_hold():
    # audit_log.outcome / .action / .role, connectivity_checks.error_kind, [access] tables: no migration
    # follows a new wording, so these strings are a contract with every database already deployed.
    # New values are added, never renamed ("verificando" since schema v5: an outcome cucu has not shown yet).
    assert [o.value for o in Outcome] == [
        "pendiente", "verificando", "ok", "rechazado", "error", "incierto", "omitido", "duplicado", "denegado",
    ]  # fmt: skip
    assert [a.value for a in ActionKind] == [
        "iniciar", "finalizar", "pausar_politica", "reanudar_politica", "renovar_cufd", "atender_alerta", "nota_alerta",
        "programar_mantenimiento", "cancelar_mantenimiento", "marcar_mantenimiento",
    ]  # fmt: skip
    assert [r.value for r in AlertRule] == [
        "siat_caido", "contingencia_larga", "ventana_por_cerrar", "sin_colector", "cucu_no_responde",
        "acciones_sin_resolver", "politica_automatica", "cufd_por_vencer", "facturas_por_vencer", "facturas_rechazadas",
    ]  # fmt: skip
    # invoices.state holds cucu's own words
    assert [s.value for s in InvoiceState] == ["PENDING", "VALIDATED", "REJECTED", "CANCELLED", "CONTINGENCY"]
    assert [k.value for k in AlertKind] == ["apertura", "recordatorio", "cierre", "prueba", "escalamiento"]
    assert [m.value for m in PolicyMode] == ["off", "dry-run", "on"]  # written in [policy].mode
    assert [r.value for r in Role] == ["pantalla", "viewer", "supervisor"]
    assert [m.value for m in AccessMode] == ["oidc", "proxy", "off"]
    assert [k.value for k in ErrorKind] == ["auth", "rate_limit", "timeout", "connection", "server", "bad_response", "other"]
    assert [int(m) for m in Motive] == [1, 2, 3, 4]
    # Carried in shared links (?estado=En+contingencia): a bookmark keeps working.
    assert [s.value for s in PosState] == ["Normal", "En contingencia", "Desconocido"]
    assert {s.label for s in InvoiceState} >= {"Por enviar (fuera de línea)", "Pendiente", "Rechazada"}  # ?estado_factura=


@pytest.mark.parametrize("members", [Outcome, ActionKind, Role, CheckState, SiatStatus, PosState, EventState, Mode, Motive])
def test_every_member_has_a_spanish_label(members):
    labels = [m.label for m in members]
    assert all(labels) and len(set(labels)) == len(labels)


@pytest.mark.parametrize("members", [Outcome, CheckState, PosState, CufdHealth])
def test_members_shown_with_an_icon_have_one(members):
    assert all(m.icon for m in members)


def test_labels_people_read():
    assert Outcome.UNCERTAIN.label == "Sin confirmar" and Outcome.DENIED.label == "Sin permiso"
    assert Role.VIEWER.label == "Observador" and ActionKind.END.past == "finalizó"
    assert SiatStatus.DOWN.label == "Caído" and SiatStatus.DOWN.color == "red"
    assert Motive.SIAT_FAILURE.label == "Falla SIAT"


def test_only_supervisors_act():
    assert Role.SUPERVISOR.can_act and not Role.VIEWER.can_act and not Role.DISPLAY.can_act


def test_check_state_of_what_cucu_said():
    assert CheckState.of(True) is CheckState.ONLINE
    assert CheckState.of(False) is CheckState.SIAT_DOWN
    assert CheckState.of(None) is CheckState.CUCU_UNREACHABLE


CLOSED_SETS = [
    *(
        v
        for v in vars(vocabulary).values()
        if isinstance(v, type) and issubclass(v, enum.Enum) and v.__module__ == vocabulary.__name__
    ),
    Preset,
]


class Shown(Protocol):
    @property
    def icon(self) -> str: ...


# As the README says: the sets the UI shows with an icon, and those shown by their label alone (or not at all).
WITH_ICON: list[Iterable[Shown]] = [
    Mode, Outcome, CheckState, SiatStatus, PosState, CufdHealth, InvoiceState, Delivery, EventClosing, OutageState,
]  # fmt: skip
WITHOUT_ICON = [
    Motive,
    EventState,
    AccessMode,
    Role,
    ActionKind,
    ErrorKind,
    AlertRule,
    AlertKind,
    PolicyMode,
    PolicyMaintenance,
    PolicyState,
    QueueKind,
    OutageKind,
    Preset,
]


@pytest.mark.parametrize("members", CLOSED_SETS, ids=lambda members: members.__name__)
def test_every_member_has_its_entry_in_its_sets_table(members):
    properties = {name for cls in members.__mro__ for name, v in vars(cls).items() if isinstance(v, property)} - {"name", "value"}
    for member in members:
        for name in properties:
            getattr(member, name)  # a member missing from its set's table raises KeyError
        if "label" in properties:
            assert isinstance(member.label, str) and member.label.strip()


def test_every_set_is_said_to_have_an_icon_or_not():
    assert {*WITH_ICON, *WITHOUT_ICON, Tone} == set(CLOSED_SETS) and not set(WITH_ICON) & set(WITHOUT_ICON)
    # An annulled invoice asks nothing of anyone: no tone, no icon (Tone.NONE), as a figure with nothing to do.
    assert all(m.icon for members in WITH_ICON for m in members if m is not InvoiceState.CANCELLED)
    assert InvoiceState.CANCELLED.tone is Tone.NONE and not InvoiceState.CANCELLED.icon
    assert not any(hasattr(members, "icon") for members in WITHOUT_ICON)
    assert all(t.icon and t.material for t in Tone if t is not Tone.NONE)  # the tones lend their icons to PosState, CufdHealth


def test_members_renamed_to_english_keep_their_values():
    # Issue 24 renamed these members; their values are in databases, URLs and settings.
    assert [int(m) for m in (Motive.INTERNET_OUTAGE, Motive.SIAT_FAILURE, Motive.OTHER)] == [1, 2, 4]
    assert Mode.PRODUCTION.value == "PRODUCCIÓN"
    assert [s.value for s in SiatStatus] == ["operativo", "intermitente", "caido", "sin_cucu", "sin_datos"]
    assert (PosState.CONTINGENCY.value, PosState.UNKNOWN.value) == ("En contingencia", "Desconocido")
