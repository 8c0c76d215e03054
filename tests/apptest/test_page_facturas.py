"""AppTest: Facturas (CUFD per POS, offline invoices still to send, rejected ones, each ended event's
closing state), Estado's invoicing KPIs, Eventos activos' CUFD column, and renewing a CUFD."""

from __future__ import annotations

import pandas as pd
from streamlit.testing.v1 import AppTest

from cucu.views.links import STATE_PARAM
from cucu.vocabulary import ActionKind, InvoiceState, Outcome, PosState
from tests.support.apptest import APP, SUPERVISOR_OFF, texts

PAGE = "pages/facturas.py"


def open_page(secrets, page=PAGE, access=SUPERVISOR_OFF):
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.secrets["cucu"] = secrets
    at.secrets["access"] = access
    at.run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_estado_says_how_many_pos_can_invoice_and_what_is_to_send(app_secrets, invoicing_runtime, sim):
    at = open_page(app_secrets, page=None)
    metrics = {m.label: m.value for m in at.metric}
    cufds = invoicing_runtime.store.cufds()
    now = invoicing_runtime.collector.clock()
    can = sum(1 for c in cufds.values() if c.cufd is not None and c.cufd.valid_at(now))
    assert metrics["Pueden facturar"] == str(can) and can == len(sim.inventory.all_pos) - 2  # one expired, one inactive
    held = invoicing_runtime.store.invoices_since(now.replace(year=now.year - 1))
    assert metrics["Facturas por enviar"] == str(sum(1 for i in held if i.state is InvoiceState.CONTINGENCY))
    assert int(metrics["CUFD por vencer (2 h)"]) > 0


def test_estado_counts_the_events_facturas_has_still_to_close(app_secrets, invoicing_runtime, sim):
    """ "Eventos por cerrar" is what the product knows: ended events whose offline invoices are not all
    validated, as Facturas › Cierre de eventos counts them on the same data; not every ended event."""
    at = open_page(app_secrets, page=None)
    metric = next(m for m in at.metric if m.label == "Eventos por cerrar")
    assert "Por registrar (48 h)" not in {m.label for m in at.metric}
    at.switch_page(PAGE)
    at.session_state["vista"] = "Cierre de eventos"
    at.run()
    caption = next(c.value for c in at.caption if c.value.startswith("Cerrado:"))
    counts = dict(part.split(": ") for part in caption.split(". ")[0].split(" · "))
    assert int(metric.value) == int(counts["Por enviar"]) + int(counts["Con rechazos"]) > 0
    ended = sum(int(v.replace("\u202f", "").replace(" ", "")) for v in counts.values())
    assert int(counts["Cerrado"]) > 0 and int(metric.value) < ended  # an event whose invoices are all validated is not counted
    assert metric.proto.delta.startswith("vence en") or "plazo vencido" in metric.proto.delta


def test_eventos_activos_shows_each_pos_cufd(app_secrets, invoicing_runtime, sim):
    at = open_page(app_secrets, page="pages/eventos.py")
    table = max((df.value for df in at.dataframe), key=len)  # every POS (the long-open one is also listed above)
    column = table["CUFD"].tolist()
    assert any(text.startswith("🔴 vencido hace") for text in column)
    assert any(text == "🔴 inactivo" for text in column)
    assert any(text.startswith("🟢 vence en") for text in column) and any(text.startswith("🟠 vence en") for text in column)


def test_eventos_activos_says_a_pos_that_cannot_invoice_in_red_after_contingency_and_filters_it(
    app_secrets, invoicing_runtime, sim
):
    """The seeded expired and inactive CUFDs: their POS read "🟢 Normal" while Estado's queue listed them as
    "No puede facturar"."""
    at = open_page(app_secrets, page="pages/eventos.py")
    table = max((df.value for df in at.dataframe), key=len)
    blocked = table["CUFD"].str.startswith("🔴")
    assert blocked.sum() == 2  # one expired, one inactive
    in_contingency = table["Estado"].str.startswith(PosState.CONTINGENCY.icon)
    assert set(table.loc[blocked & ~in_contingency, "Estado"]) <= {
        "🔴 No puede facturar (vencido)",
        "🔴 No puede facturar (inactivo)",
    }
    assert not table.loc[blocked, "Estado"].str.startswith(PosState.NORMAL.icon).any()
    # urgent first: the POS in contingency, then those that cannot invoice
    firsts = list(table["Estado"].str.startswith("🔴"))
    contingency = int(in_contingency.sum())
    assert firsts[contingency : contingency + int((blocked & ~in_contingency).sum())] == [True] * int(
        (blocked & ~in_contingency).sum()
    )
    at.button_group(key=STATE_PARAM).set_value(["No puede facturar"]).run()
    assert not at.exception, [e.value for e in at.exception]
    shown = max((df.value for df in at.dataframe), key=len)
    assert sorted(shown["Punto de venta"]) == sorted(table.loc[blocked, "Punto de venta"])
    linked = AppTest.from_file(str(APP), default_timeout=30)  # a link carries it, as Estado's queue's would
    linked.secrets["cucu"], linked.secrets["access"] = app_secrets, SUPERVISOR_OFF
    linked.run()
    linked.switch_page("pages/eventos.py")
    linked.query_params[STATE_PARAM] = "No puede facturar"
    linked.run()
    assert not linked.exception, [e.value for e in linked.exception]
    assert sorted(max((df.value for df in linked.dataframe), key=len)["Punto de venta"]) == sorted(shown["Punto de venta"])


def test_facturas_lists_offline_and_rejected_invoices_and_event_closing(app_secrets, invoicing_runtime, sim):
    at = open_page(app_secrets)
    body = texts(at)
    assert "leídas de cucu" in body
    tables = {tuple(df.value.columns[:4]): df.value for df in at.dataframe}
    assert len(tables) == 1  # only the open tab's table is built and sent
    invoices = next(v for k, v in tables.items() if "invoice_id" in k)
    assert set(invoices["state"]) <= {"CONTINGENCY", "PENDING", "REJECTED"} and "CONTINGENCY" in set(invoices["state"])
    pos_names = {p.name for p in sim.inventory.all_pos}
    assert set(invoices["Punto de venta"]) <= pos_names
    # the state filter narrows the list
    at.button_group(key="estado_factura").set_value([InvoiceState.CONTINGENCY.label]).run()
    assert not at.exception
    invoices = next(df.value for df in at.dataframe if "invoice_id" in df.value.columns)
    assert set(invoices["state"]) == {"CONTINGENCY"}
    # the closing list opens on the events still needing work; with no closing chosen, every one
    at.session_state["vista"] = "Cierre de eventos"
    at.run()
    assert not at.exception
    closes = next((df.value for df in at.dataframe if "event_id" in df.value.columns), None)
    assert closes is not None and set(closes["closing"]) <= {"Por enviar", "Con rechazos"}
    at.button_group(key="cierre").set_value([]).run()
    every = next(df.value for df in at.dataframe if "event_id" in df.value.columns)
    assert "Cerrado" in set(every["closing"]) and set(every["closing"]) <= {
        "Cerrado",
        "Por enviar",
        "Con rechazos",
        "Sin facturas",
    }
    assert len(every) > len(closes)
    at.button_group(key="cierre").set_value(["Cerrado"]).run()
    assert set(next(df.value for df in at.dataframe if "event_id" in df.value.columns)["closing"]) == {"Cerrado"}


def test_facturas_marks_a_rejection_red(app_secrets, invoicing_runtime):
    """ "Rechazada" was drawn plain; SIAT's rejections are red everywhere else."""
    at = open_page(app_secrets)
    invoices = next(df.value for df in at.dataframe if "invoice_id" in df.value.columns)
    rejected = invoices[invoices["state"] == InvoiceState.REJECTED.value]
    assert len(rejected) and set(rejected["Estado"]) == {"🔴 Rechazada"}
    assert set(invoices.loc[invoices["state"] == InvoiceState.CONTINGENCY.value, "Estado"]) == {"🟠 Por enviar (fuera de línea)"}


def test_facturas_gives_the_time_left_wherever_the_deadline_is_known(app_secrets, invoicing_runtime):
    """Seen at a chain: "Queda" "—" on every row beside a known "Plazo" (the list opens on the nearest deadlines,
    rejected invoices; only those still to send had a time left). Empty while the event is open (no deadline)."""
    at = open_page(app_secrets)
    invoices = next(df.value for df in at.dataframe if "invoice_id" in df.value.columns)
    dated = invoices["Plazo"].notna()
    assert (dated & (invoices["state"] == InvoiceState.REJECTED.value)).any()  # what read "—" before
    assert invoices.loc[dated, "Queda"].notna().all() and invoices.loc[~dated, "Queda"].isna().all()
    drawn_at = invoices.loc[dated, "Plazo"] - invoices.loc[dated, "Queda"]  # one "now", the page's, to the minute
    assert drawn_at.max() - drawn_at.min() < pd.Timedelta(minutes=1)


def test_the_state_filter_comes_from_the_url(app_secrets, invoicing_runtime):
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.secrets["cucu"] = app_secrets
    at.secrets["access"] = SUPERVISOR_OFF
    at.run()
    at.switch_page(PAGE)
    at.query_params["estado_factura"] = InvoiceState.CONTINGENCY.label
    at.run()
    assert not at.exception
    invoices = next(df.value for df in at.dataframe if "invoice_id" in df.value.columns)
    assert set(invoices["state"]) == {"CONTINGENCY"}


def test_renewing_the_expired_cufd_lets_the_pos_invoice_and_is_audited(app_secrets, invoicing_runtime, sim):
    expired = sim.inventory.all_pos[1]
    at = open_page(app_secrets)
    at.session_state["vista"] = "CUFD"
    at.run()
    at.button(key="facturas_renovar_todos").click().run()
    assert not at.exception
    assert "CUFD nuevo" in texts(at)  # the confirmation says what happens
    listed = next(d.value for d in at.dataframe if "CUFD actual" in d.value.columns)
    row = listed[listed["Punto de venta"] == expired.name]
    assert len(row) == 1 and row["CUFD actual"].iloc[0].startswith("🔴 vencido hace")
    at.checkbox(key="accion_entiendo").check().run()  # every branch: the reach is acknowledged first
    at.button(key="accion_confirmar").click().run()
    assert not at.exception, [e.value for e in at.exception]
    body = texts(at)
    assert "renovados" in body
    now = invoicing_runtime.collector.clock()
    stored = invoicing_runtime.store.cufds()[expired.id]
    assert stored.cufd is not None and stored.cufd.valid_at(now)
    entries = [e for e in invoicing_runtime.store.audit_page() if e.action == ActionKind.RENEW_CUFD]
    assert entries and {e.outcome for e in entries} == {Outcome.OK}
    assert expired.id in {e.pos_id for e in entries}
    at.button(key="accion_cerrar").click().run()
    # on the next run the POS is no longer among those that cannot invoice
    metrics = {m.label: m.value for m in open_page(app_secrets, page=None).metric}
    assert metrics["Pueden facturar"] == str(len(sim.inventory.all_pos))


def test_a_viewer_sees_no_renewal_control(app_secrets, invoicing_runtime):
    at = open_page(app_secrets, access={"mode": "off", "allow_anonymous_supervisors": False})
    at.session_state["vista"] = "CUFD"
    at.run()
    assert not [b for b in at.button if b.key and b.key.startswith("facturas_renovar")]
    cufd = next(df.value for df in at.dataframe if "CUFD" in df.value.columns)  # the viewer still sees them
    assert any(text.startswith("🔴 vencido hace") for text in cufd["CUFD"])


def test_facturas_says_what_the_walk_left_out(app_secrets, invoicing_runtime):
    from cucu.invoicing import INVOICE_JOB
    from cucu.store import JobNotes

    at = open_page(app_secrets)
    assert "apartadas" not in texts(at) and not [w for w in at.warning if "CUCU_INVOICE_MAX_OPEN" in w.value]
    run = invoicing_runtime.store.job_run(INVOICE_JOB)
    invoicing_runtime.store.record_job(INVOICE_JOB, run.ran_at, None, JobNotes(future=3, undated=1, over_cap=1200))
    at.run()
    assert not at.exception
    [cap] = [w.value for w in at.warning if "CUCU_INVOICE_MAX_OPEN" in w.value]
    assert cap.startswith("Se guardan como máximo 50 000 facturas") and "1 200 facturas nuevas de cucu no se guardaron" in cap
    assert "4 filas de la lista de cucu apartadas" in texts(at) and "3 con fecha de emisión futura y 1 sin fecha" in texts(at)


def test_cufd_list_opens_on_those_that_cannot_invoice_then_the_nearest_expiry(app_secrets, invoicing_runtime):
    at = open_page(app_secrets)
    at.session_state["vista"] = "CUFD"
    at.run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "Vence" in d.value.columns)
    blocked = ~table["CUFD"].str.startswith(("🟠", "🟢"))
    assert blocked.any() and (~blocked).any()  # the seed has both
    assert list(blocked) == sorted(blocked, reverse=True)  # every POS that cannot invoice above the rest
    assert pd.api.types.is_datetime64_any_dtype(table["Vence"])  # sorts as time, not as "vence en 5 h" text
    expiring = table.loc[~blocked, "Vence"]
    assert list(expiring) == sorted(expiring)  # then the nearest expiry first


def test_a_first_pass_under_way_says_its_invoice_figures_are_partial(app_secrets, seeded_runtime):
    """Seen: "Facturas rechazadas" went 36, 46, 502, 584 while the page said only "leídas de cucu hace 58 s"."""
    at = open_page(app_secrets, page=None)
    deltas = {m.label: (m.value, m.proto.delta) for m in at.metric}
    assert deltas["Facturas rechazadas"] == ("—", "sin datos todavía")  # nothing read: not 0
    assert deltas["Eventos por cerrar"] == ("—", "sin datos todavía")  # counted from the invoices
    seeded_runtime.collector.invoice_pages_per_round = 1
    assert not seeded_runtime.collector.invoices_once().pass_done
    at = open_page(app_secrets, page=None)
    deltas = {m.label: (m.value, m.proto.delta) for m in at.metric}
    assert deltas["Facturas rechazadas"][1] == "lectura parcial"
    assert deltas["Facturas por enviar"][1].startswith("lectura parcial")
    assert deltas["Eventos por cerrar"][1].startswith("lectura parcial")
    assert "Primer recorrido de las facturas en curso: 1 página de cucu leída," in texts(at)
    at.switch_page(PAGE).run()
    assert any(i.value.startswith("Primer recorrido de las facturas en curso") for i in at.info)
    seeded_runtime.collector.invoice_pages_per_round = 20
    while not seeded_runtime.collector.invoices_once().pass_done:
        pass
    at = open_page(app_secrets, page=None)
    assert "Primer recorrido" not in texts(at)
    assert "lectura parcial" not in {m.proto.delta for m in at.metric}


def test_facturas_says_unknown_not_zero_before_the_first_cufd_and_invoice_reads(app_secrets, seeded_runtime):
    """Seen on a chain after a restart: "CUFD: 0 de 10 000 pueden facturar" and "0 rechazadas" while nothing had
    been read yet. Unknown is never zero: the lines say it was not read; after one CUFD round, the counts."""
    at = open_page(app_secrets)
    shown = texts(at)
    assert "CUFD:** sin leer todavía" in shown and "pueden facturar" not in shown
    assert "Todavía no se leyeron facturas de cucu" in shown and "rechazadas" not in shown.split("Todavía")[0]
    assert not any(m.value.startswith("**Facturas:**") for m in at.markdown)
    seeded_runtime.collector.cufd_once()
    at = open_page(app_secrets)
    assert any(m.value.startswith("**CUFD:**") and "pueden facturar" in m.value for m in at.markdown)
