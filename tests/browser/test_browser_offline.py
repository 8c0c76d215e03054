"""A tablet that loses the server says so in Spanish, greys its figures, and recovers by itself."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Iterator

from playwright.sync_api import expect

from tests.support.browser import TABLET, streamlit_server, wait_for_app
from tests.support.net import free_port


class NetworkPath:
    """A TCP proxy between the browser and the app: stopping it drops every connection and refuses
    new ones, like a network gone, without restarting the app; starting it listens on the same port."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone would not
            self._listener.close()
            self._listener = None
        with self._lock:
            for conn in self._open:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.upstream))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        for conn in (source, target):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def demo_behind_a_network_path() -> Iterator[NetworkPath]:
    """The demo app behind a network path that a test can cut (the lost-server state)."""
    app_port = free_port()
    with streamlit_server({"CUCU_SIMULATOR_PORT": str(free_port())}, port=app_port):
        path = NetworkPath(app_port)
        path.start()
        try:
            yield path
        finally:
            path.stop()


def test_lost_server_greys_the_page_in_spanish_and_recovers_by_itself(behind_a_network, page):
    path = behind_a_network
    page.set_viewport_size(TABLET)
    page.goto(f"http://127.0.0.1:{path.port}/")
    wait_for_app(page)
    banner = page.get_by_test_id("cucuSinConexion")
    expect(banner).to_have_count(1)  # the watchdog is installed
    expect(banner).to_be_hidden()

    # A text with ages, as the page draws them ("consultados hace 2 min", "vence en 1 h 5 min"), here in seconds.
    drawn = "consultados hace 5 s · vence en 3 s · venció hace 1 min"
    page.evaluate(
        "(text) => { const p = document.createElement('p'); p.id = 'edades'; p.textContent = text;"
        " document.querySelector('[data-testid=stMain]').appendChild(p); }",
        drawn,
    )
    edades = page.locator("#edades")

    path.stop()
    lost = time.monotonic()
    expect(banner).to_be_visible(timeout=10_000)
    assert time.monotonic() - lost < 10
    first_mark = page.locator("[data-cucu-datos]").last.get_attribute("data-cucu-corrida")
    expect(banner).to_contain_text("Sin conexión con el servidor del tablero: lo que ve no está al día.")
    expect(banner).to_contain_text(re.compile(r"Datos de las \d\d:\d\d:\d\d \(hace \d+ s\)"))
    main = page.get_by_test_id("stMain")
    assert "grayscale(1)" in main.evaluate("e => getComputedStyle(e).filter")
    ages = []
    for _ in range(2):
        ages.append(int(re.search(r"hace (\d+) s", banner.inner_text()).group(1)))  # type: ignore[union-attr]
        page.wait_for_timeout(2_100)
    assert ages[1] >= ages[0] + 2, ages  # the age keeps counting with no server
    # So do the page's own: past the deadline of 3 s, "vence en" turns into "venció hace".
    expect(edades).to_have_text(re.compile(r"^consultados hace \d+ s · venció hace \d+ s · venció hace 1 min$"))
    aged = page.evaluate(
        "(texts) => texts.map((t) => window.cucuWatchdog.aged(t, 90_000))",
        ["hace 40 s", "Abierto hace 1 d 19 h (Corte)", "vence en 2 h 5 min", "vence en 30 s", "hace mucho", "hace 5 h"],
    )
    assert aged == [
        "hace 2 min",
        "Abierto hace 1 d 19 h (Corte)",
        "vence en 2 h 3 min",
        "venció hace 1 min",
        "hace mucho",
        "hace 5 h 1 min",
    ]
    english = page.locator('[role="dialog"]', has_text="Connection error")  # Streamlit's own dialog
    expect(english).to_have_count(1)
    expect(english).to_be_hidden()
    # Nor its modal layer: Streamlit's backdrop (the dialog's stDialog overlay) tinted the grey page under the banner.
    expect(page.locator('[data-testid="stDialog"]:visible, [role="dialog"]:visible')).to_have_count(0)

    path.start()
    expect(banner).to_be_hidden(timeout=30_000)
    assert "grayscale" not in main.evaluate("e => getComputedStyle(e).filter")
    assert page.locator("[data-cucu-datos]").last.get_attribute("data-cucu-corrida") != first_mark  # fresh data
    expect(edades).to_have_text(drawn)  # what the server did not write again is its own text again
