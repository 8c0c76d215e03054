"""Helpers for AppTest: run the app (optionally on a given page) and read what it shows."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "app.py"


SUPERVISOR_OFF = {"mode": "off", "allow_anonymous_supervisors": True}  # everyone may act, no sign-in


def run_app(
    secrets: dict | None = None,
    page: str | None = None,
    timeout: float = 30,
    access: dict | None = None,
    user: dict | None = None,
    auth: dict | None = None,
    query: dict[str, str] | None = None,
) -> AppTest:
    """Run app.py (then switch to ``page``, e.g. ``"pages/historial.py"``); assert no exception.

    ``secrets`` is the [cucu] table, ``access`` the [access] table; ``query`` the page's URL parameters
    (``{"alerta": "siat_caido"}``, as an alert message's link opens it).
    """
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    if secrets is not None:
        at.secrets["cucu"] = secrets
    if access is not None:
        if access.get("mode") == "oidc" and auth is None:
            auth = {"cookie_secret": "c" * 64}  # oidc refuses to start without a usable one
        if access.get("mode") == "proxy":
            access = {"proxy_secret": "p" * 64, **access}  # and proxy without its proxy secret
        at.secrets["access"] = access
    if auth is not None:
        at.secrets["auth"] = auth
    if user is not None:
        at.user = user  # what st.user says (OIDC claims)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if query is not None:
        at.query_params.update(query)
    if page is not None:
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    """Every text element's value, joined: for 'does the page say X' assertions."""
    parts = [m.value for m in at.markdown] + [e.value for e in at.error] + [w.value for w in at.warning]
    parts += [s.value for s in at.success] + [i.value for i in at.info] + [c.value for c in at.caption]
    parts += [t.value for t in at.title] + [h.value for h in at.header] + [h.value for h in at.subheader]
    return "\n".join(str(p) for p in parts)


def header_siat(at: AppTest) -> str:
    """The header's SIAT badge, as its Markdown (":orange-badge[:material/warning: SIAT: Intermitente]")."""
    badges = [m.value for m in at.markdown if "-badge[" in m.value and "SIAT" in m.value]
    assert len(badges) == 1, badges
    return badges[0]


def page_word(at: AppTest) -> str:
    """Estado's word, "Operativo" out of "## SIAT: :green[Operativo]"."""
    heading = next(m.value for m in at.markdown if m.value.startswith("## SIAT: "))
    return heading.split("[", 1)[1].rstrip("]")


def sent_bytes(at: AppTest) -> bytes:
    """Every element and block Streamlit would send for this run, serialized as on the wire."""
    out = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.append(proto.SerializeToString())
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return b"".join(out)
