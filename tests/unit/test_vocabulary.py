"""The closed sets: stored values never change, every member has its label, and the rules beside them."""

from __future__ import annotations

import pytest

from cucu.vocabulary import (
    AccessMode,
    ActionKind,
    AlertKind,
    AlertRule,
    CheckState,
    CufdHealth,
    ErrorKind,
    EventState,
    InvoiceState,
    Mode,
    Motive,
    Outcome,
    PolicyMode,
    PosState,
    Role,
    SiatStatus,
)


def test_stored_values_are_the_ones_older_databases_hold():
    # audit_log.outcome / .action / .role, connectivity_checks.error_kind, [access] tables: no migration
    # follows a new wording, so these strings are a contract with every database already deployed.
    # New values are added, never renamed ("verificando" since schema v5: an outcome cucu has not shown yet).
    assert [o.value for o in Outcome] == [
        "pendiente", "verificando", "ok", "rechazado", "error", "incierto", "omitido", "duplicado", "denegado",
    ]  # fmt: skip
    assert [a.value for a in ActionKind] == ["iniciar", "finalizar", "pausar_politica", "reanudar_politica", "renovar_cufd"]
    assert [r.value for r in AlertRule] == [
        "siat_caido", "contingencia_larga", "ventana_por_cerrar", "sin_colector", "cucu_no_responde",
        "acciones_sin_resolver", "politica_automatica", "cufd_por_vencer", "facturas_por_vencer", "facturas_rechazadas",
    ]  # fmt: skip
    # invoices.state holds cucu's own words
    assert [s.value for s in InvoiceState] == ["PENDING", "VALIDATED", "REJECTED", "CANCELLED", "CONTINGENCY"]
    assert [k.value for k in AlertKind] == ["apertura", "recordatorio", "cierre", "prueba"]
    assert [m.value for m in PolicyMode] == ["off", "dry-run", "on"]  # written in [policy].mode
    assert [r.value for r in Role] == ["viewer", "supervisor"]
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
    assert Role.SUPERVISOR.can_act and not Role.VIEWER.can_act


def test_check_state_of_what_cucu_said():
    assert CheckState.of(True) is CheckState.ONLINE
    assert CheckState.of(False) is CheckState.SIAT_DOWN
    assert CheckState.of(None) is CheckState.CUCU_UNREACHABLE
