"""Serve a :class:`Simulator` over HTTP with uvicorn, in a daemon thread.

We bind the socket ourselves so that ``port=0`` picks a free port and ``base_url`` is
known before the first request. uvicorn skips signal handlers outside the main thread,
so the host program (Streamlit, pytest) keeps its own Ctrl-C handling.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette

from cucu.simulator.app import create_app
from cucu.simulator.faults import Faults, FaultsError
from cucu.simulator.state import DEFAULT_API_KEY, Simulator

_START_TIMEOUT_S = 5.0
BACKFILL_DB_ENV = "SIMULATOR_BACKFILL_DB"  # see SimulatorProcess

log = logging.getLogger(__name__)


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


class RemoteSimulator:
    """The demo's fault switches on a simulator in another process, through its ``/_sim/faults`` route.

    ``ready`` is waited for before each call (a chain's simulator process may still be seeding)."""

    def __init__(self, base_url: str, api_key: str, ready: Callable[[], object] | None = None):
        self.base_url = base_url
        self.api_key = api_key
        self._ready = ready

    @property
    def faults(self) -> Faults:
        if self._ready is not None:
            self._ready()
        answer = httpx.get(f"{self.base_url}/_sim/faults", timeout=5)
        answer.raise_for_status()
        return Faults().updated(answer.json()["data"])

    def update_faults(self, partial: Mapping[str, Any]) -> Faults:
        if self._ready is not None:
            self._ready()
        answer = httpx.put(f"{self.base_url}/_sim/faults", json=dict(partial), timeout=5)
        if answer.status_code == 400:
            raise FaultsError(answer.json().get("message", "Fallas no válidas."))
        answer.raise_for_status()
        return Faults().updated(answer.json()["data"])


class SimulatorProcess:
    """``python -m cucu.simulator`` for a generated chain, in a child process: its own GIL.

    In the web process, a simulator answering a sweep of thousands of POS competes with
    Streamlit and the collector for one interpreter (a first sweep of 10 000 POS took 5 minutes
    instead of half a minute). The child seeds the chain itself (from ``seed_time``) and, given
    ``backfill_db``, fills that fresh database with the seeded history once it serves. Nobody in
    the web process waits for it: calls go through :meth:`transport`, which holds each one until
    the child answers (about 3 s at 10 000 POS). It stops with its parent.
    """

    def __init__(
        self,
        size: tuple[int, int],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = DEFAULT_API_KEY,
        backfill_db: str | None = None,
        seed_time: datetime | None = None,
        ready_timeout_s: float = 120.0,
    ):
        self.size = size
        self.host = host
        self.port = port
        self.backfill_db = backfill_db
        self.seed_time = seed_time
        self.ready_timeout_s = ready_timeout_s
        self.simulator = RemoteSimulator(self.base_url, api_key, ready=self.wait_ready)
        self._process: subprocess.Popen[bytes] | None = None
        self._settled = threading.Event()  # the child answered, ended, was stopped or timed out
        self._ready = False

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> SimulatorProcess:
        if self.port == 0:  # a free port now, so that base_url is known before the child listens
            with socket.socket() as probe:
                probe.bind((self.host, 0))
                self.port = probe.getsockname()[1]
            self.simulator.base_url = self.base_url
        branches, per_branch = self.size
        command = [sys.executable, "-m", "cucu.simulator", "--host", self.host, "--port", str(self.port)]
        command += ["--synthetic", f"{branches}x{per_branch}", "--api-key", self.simulator.api_key]
        command += ["--parent-pid", str(os.getpid())]
        if self.seed_time is not None:
            command += ["--seed-time", self.seed_time.isoformat()]
        env = {k: v for k, v in os.environ.items() if k != BACKFILL_DB_ENV}
        if self.backfill_db:  # by the environment: a PostgreSQL URL's password stays out of the process list
            env[BACKFILL_DB_ENV] = self.backfill_db
        self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env)
        threading.Thread(target=self._watch_start, name=f"cucu-simulator-start:{self.port}", daemon=True).start()
        return self

    def _watch_start(self) -> None:
        """One poller for every waiter: until the child answers, ends or ``ready_timeout_s`` passes."""
        deadline = time.monotonic() + self.ready_timeout_s
        with httpx.Client(timeout=2) as http:
            while self.running and time.monotonic() < deadline:
                try:
                    if http.get(f"{self.base_url}/_sim/faults").status_code == 200:
                        self._ready = True
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
        if not self._ready and self._process is not None:
            log.error("el simulador de la demostración no respondió en %s", self.base_url)
        self._settled.set()

    def wait_ready(self, timeout_s: float | None = None) -> bool:
        """True once the child answers; False if it ended, was stopped or did not answer in time."""
        self._settled.wait(self.ready_timeout_s if timeout_s is None else timeout_s)
        return self._ready and self.running

    def transport(self, max_connections: int) -> httpx.BaseTransport:
        """The dashboard client's transport: each call waits until the child answers, so a call made
        while it seeds is late, not failed (a failed check would say cucu does not answer)."""
        return _AfterReady(
            self,
            httpx.HTTPTransport(limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)),
        )

    def stop(self, timeout: float = 5.0) -> None:
        process, self._process = self._process, None
        self._settled.set()  # nobody waits for a child that is going away
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)


class _AfterReady(httpx.BaseTransport):
    def __init__(self, process: SimulatorProcess, inner: httpx.BaseTransport):
        self._process = process
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self._process.wait_ready():
            raise httpx.ConnectError("El simulador de la demostración no está en marcha.", request=request)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()
