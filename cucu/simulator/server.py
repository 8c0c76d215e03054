"""Serve a :class:`Simulator` over HTTP with uvicorn, in a daemon thread.

We bind the socket ourselves so that ``port=0`` picks a free port and ``base_url`` is
known before the first request. uvicorn skips signal handlers outside the main thread,
so the host program (Streamlit, pytest) keeps its own Ctrl-C handling.
"""

from __future__ import annotations

import socket
import threading
import time

import uvicorn
from starlette.applications import Starlette

from cucu.simulator.app import create_app
from cucu.simulator.state import Simulator

_START_TIMEOUT_S = 5.0


class SimulatorServer:
    def __init__(self, simulator: Simulator | None = None, host: str = "127.0.0.1", port: int = 0):
        self.simulator = simulator if simulator is not None else Simulator()
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self._app: Starlette | None = None

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> SimulatorServer:
        if self.running:
            return self
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose
        # proto says TCP, and without it Nagle + delayed ACK add ~40 ms to every answer.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        self._sock = sock
        self._app = app = create_app(self.simulator)
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            # Leave the host program's logging alone (uvicorn's default config replaces handlers).
            log_config=None,
            lifespan="off",
            loop="asyncio",
            ws="none",
            backlog=2048,
            # Hanging calls (timeout faults) must not hold up stop().
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=f"cucu-simulator:{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"No se pudo iniciar el simulador en {self.base_url}.")
            time.sleep(0.005)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if self._app is not None:
            self._app.state.closing = True  # wakes hanging calls, see app.pause()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._sock is not None:
            self._sock.close()
        self._server = self._thread = self._sock = self._app = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
