"""The last step of the fresh-Debian walkthrough: a supervisor signs in over HTTPS and acts.

Run on the host by ``tests/deploy/fresh_debian/run.sh`` once the container serves the README's deployment:
Chromium opens https://<host>/contingencia/ (the host name mapped to 127.0.0.1), signs in at the
identity provider as the supervisor, ends one event and starts one, finds the name in Bitácora, and
saves tablet screenshots. Exits non-zero, saying where, at the first step that does not work.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    TABLET,
    bitacora_cells,
    end_first_branch,
    start_one_event,
    wait_for_app,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="contingencia.test")
    parser.add_argument("--user", default="ana", help="the provider's button for the supervisor")
    parser.add_argument("--name", default="Ana Quispe")
    parser.add_argument("--email", default="ana.quispe@empresa.bo")
    parser.add_argument("--shots", default="screenshots/fresh-debian")
    opts = parser.parse_args()
    shots = Path(opts.shots)
    shots.mkdir(parents=True, exist_ok=True)
    site = f"https://{opts.host}/contingencia"
    args = [*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {opts.host} 127.0.0.1"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        # A self-signed certificate, as in the README's first test of step 5.
        page = browser.new_context(viewport=TABLET, ignore_https_errors=True).new_page()
        page.set_default_timeout(30_000)

        print("1. Sign-in page at", f"{site}/")
        page.goto(f"{site}/")
        wait_for_app(page)
        page.screenshot(path=shots / "1-iniciar-sesion.png")
        page.get_by_role("button", name="Iniciar sesión").click()
        page.get_by_role("button", name=re.compile(opts.user)).first.click()  # the provider's login page
        page.wait_for_url(re.compile(re.escape(opts.host) + "/contingencia/"))
        wait_for_app(page)
        header = page.get_by_test_id("stMain")
        expect(header).to_contain_text(opts.name, timeout=15_000)
        expect(header).to_contain_text("Supervisor")
        page.screenshot(path=shots / "2-estado.png", full_page=True)
        print("2. Signed in as", opts.name, "(Supervisor)")

        end_first_branch(page, site)
        print("3. Ended the events of one branch")
        start_one_event(page, site, "Prueba de instalación en Debian nuevo")
        page.screenshot(path=shots / "3-iniciado.png", full_page=True)
        print("4. Started an event")
        bitacora_cells(page, site, opts.email)
        page.screenshot(path=shots / "4-bitacora.png", full_page=True)
        print("5. Bitácora names", opts.email)

        page.reload()
        wait_for_app(page)
        expect(page.get_by_test_id("stMain")).to_contain_text(opts.name, timeout=15_000)
        print("6. A reload keeps the session")
        browser.close()
    print("OK: a signed-in supervisor over HTTPS, screenshots in", shots)
    return 0


if __name__ == "__main__":
    sys.exit(main())
