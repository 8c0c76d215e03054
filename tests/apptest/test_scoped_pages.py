"""AppTest: a scoped viewer and a scoped supervisor on every page (issue 26, part 2). The store holds every
region's rows (events, invoices, an outage, alerts, audited actions, maintenance); what reaches the scoped
person's browser (every element Streamlit sends: text, tables as Arrow, charts, options, links) names no
other region's branch or POS, and their own region is there."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cucu.access import Identity
from cucu.connectivity.outages import read_outages
from cucu.vocabulary import OutageKind
from tests.apptest.test_page_informe import built
from tests.support.apptest import run_app, sent_bytes, texts
from tests.support.scoped import seed_every_region

MINE = "La Paz"
ACCESS = {
    "mode": "proxy",
    "users": {
        "luis": {"role": "supervisor", "regions": [MINE]},
        "vera": {"role": "viewer", "regions": [MINE]},
        "ana": "supervisor",
    },
}
PAGES = [
    "pages/estado.py",
    "pages/eventos.py",
    "pages/iniciar.py",
    "pages/facturas.py",
    "pages/alertas.py",
    "pages/mantenimiento.py",
    "pages/historial.py",
    "pages/conectividad.py",
    "pages/bitacora.py",
    "pages/caidas.py",
    "pages/informe.py",
    "pages/pantalla.py",
]


@pytest.fixture
def chain_with_every_region(sim, seeded_runtime):
    forbidden, mine = seed_every_region(sim, seeded_runtime, MINE)
    return seeded_runtime, forbidden, mine


@pytest.mark.parametrize("user", ["vera", "luis"])
def test_a_scoped_person_sees_only_their_region(chain_with_every_region, app_secrets, monkeypatch, user):
    """Every page in turn in one session (one chain seeded per person: the suite stays fast)."""
    runtime, forbidden, mine = chain_with_every_region
    monkeypatch.setattr("ui.identity.signed_in_identity", lambda access: Identity(user))
    at = run_app(app_secrets, access=ACCESS)
    for page in PAGES:
        if page == "pages/iniciar.py" and user == "vera":
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(page)
            continue
        at.query_params.clear()
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        if page == "pages/informe.py":  # this month's, where the outage is
            built(at.selectbox(key="informe_mes").select_index(0).run())
            assert not at.exception, [e.value for e in at.exception]
        if page == "pages/caidas.py":  # and the outage's dossier
            now = runtime.store.now()
            [outage] = [o for o in read_outages(runtime.store, now - timedelta(days=1), now) if o.kind is OutageKind.SIAT]
            at.query_params["caida"] = outage.key
            at.run()
            assert not at.exception, [e.value for e in at.exception]
        sent = sent_bytes(at)
        leaked = [name for name in forbidden if name.encode() in sent]
        assert not leaked, (page, leaked)
        assert any(name.encode() in sent for name in mine), page  # their own branches are there
        assert "Región La Paz" in texts(at) or page == "pages/pantalla.py", page  # the header says the scope


def test_the_whole_companys_supervisor_sees_every_region(chain_with_every_region, app_secrets, monkeypatch):
    """The test above can fail: the same pages for Ana name the other regions' branches."""
    _runtime, forbidden, _mine = chain_with_every_region
    monkeypatch.setattr("ui.identity.signed_in_identity", lambda access: Identity("ana"))
    at = run_app(app_secrets, page="pages/eventos.py", access=ACCESS)
    assert any(name.encode() in sent_bytes(at) for name in forbidden)
    assert "Región La Paz" not in texts(at)


def test_a_scoped_supervisor_is_offered_only_what_is_theirs(chain_with_every_region, app_secrets, monkeypatch):
    """No control for what concerns the whole company; the actions refuse it anyway (tests/store/test_scoped_actions.py)."""
    monkeypatch.setattr("ui.identity.signed_in_identity", lambda access: Identity("luis"))
    at = run_app(app_secrets, page="pages/mantenimiento.py", access=ACCESS)
    assert "Marcar un período pasado como mantenimiento" not in texts(at)
    cancels = [b for b in at.button if (b.key or "").startswith("mantenimiento_cancelar_")]
    assert len(cancels) == 2  # La Paz's two branches' windows; not the one over every region
    assert "3 sucursales fuera de su alcance" in "\n".join(t.value for t in at.text)
    at = run_app(app_secrets, page="pages/alertas.py", access=ACCESS)
    assert not [b for b in at.button if b.key == "alertas_prueba"]
    at = run_app(app_secrets, page="pages/iniciar.py", access=ACCESS)
    options = {o for s in at.selectbox for o in s.options} | {o for m in at.multiselect for o in m.options}
    assert "Santa Cruz" not in options and not any("Sucre" in o for o in options)
