"""Every page passes axe-core in real Chromium: no serious or critical violation.

axe-core is fetched from the npm registry by ``tests/fetch-axe-core.sh`` (the README's test command
runs it) and injected into each page with Playwright. The pages run on the demo as a supervisor (the
action forms drawn), on a tablet, once their script has finished.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.browser import ROOT, TABLET, streamlit_server, wait_for_app

AXE_VERSION = "4.14.1"  # the one tests/fetch-axe-core.sh pins
AXE = ROOT / "tests" / ".axe-core" / f"axe-{AXE_VERSION}.min.js"
PAGES = {"": "Estado", "eventos": "Eventos activos", "conectividad": "Conectividad", "historial": "Historial",
         "iniciar": "Iniciar evento", "bitacora": "Bitácora", "alertas": "Alertas", "facturas": "Facturas",
         "facturas?vista=CUFD": "Facturas"}  # fmt: skip
BLOCKING = ("serious", "critical")

RUN_AXE = """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
  .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" ") + " :: " + n.html.slice(0, 120))}))"""


@pytest.fixture(scope="module")
def axe_script() -> Path:
    if not AXE.exists():  # a fresh clone where only pytest was run: fetch it as the README's command does
        subprocess.run(["bash", str(ROOT / "tests" / "fetch-axe-core.sh")], check=True)
    return AXE


@pytest.fixture(scope="module")
def site():
    env = {"CUCU_ACCESS_MODE": "off", "CUCU_ACCESS_ALLOW_ANONYMOUS_SUPERVISORS": "true"}
    with streamlit_server(env) as url:
        yield url


def violations(page, axe_script: Path) -> list[dict]:
    page.add_script_tag(path=str(axe_script))
    return page.evaluate(RUN_AXE)


@pytest.mark.parametrize("path", list(PAGES), ids=[f"{h} {p}".strip() for p, h in PAGES.items()])
def test_no_serious_or_critical_accessibility_violation(site, page, axe_script, path):
    page.set_viewport_size(TABLET)
    page.goto(f"{site}/{path}")
    page.get_by_role("heading", name=PAGES[path]).first.wait_for()
    wait_for_app(page)
    blocking = [v for v in violations(page, axe_script) if v["impact"] in BLOCKING]
    assert blocking == [], "\n".join(f"{v['impact']} {v['id']}: {v['help']}\n  " + "\n  ".join(v["nodes"][:5]) for v in blocking)


def test_the_check_finds_a_low_contrast_caption(site, page, axe_script):
    """The check can fail: Streamlit's default caption grey (what the theme's textColor replaces) is reported."""
    page.set_viewport_size(TABLET)
    page.goto(f"{site}/bitacora")
    wait_for_app(page)
    page.evaluate("""() => document.querySelectorAll('[data-testid="stCaptionContainer"]')
        .forEach(c => c.style.color = 'rgba(49, 51, 63, 0.6)')""")
    found = [v for v in violations(page, axe_script) if v["id"] == "color-contrast"]
    assert found and found[0]["impact"] == "serious"
