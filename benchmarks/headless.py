"""People who keep a page open, without a browser: each one a WebSocket session speaking Streamlit's protocol as
its frontend does (the page's first run, then each live part's rerun at the interval ``ForwardMsg.auto_rerun``
asks for), so the server does for it what it does for a tablet, and this machine draws nothing. Fifty tabs drawn
by a Chromium on the server's own two cores would measure Chromium, not the dashboard (their devices draw them).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect
from websockets.typing import Subprotocol


class HeadlessViewer(threading.Thread):
    """One person with ``path`` open on ``url`` (signed in by ``headers``) until :meth:`stop`; counts the runs the
    server finished for it, and keeps why it ended (None: asked to)."""

    def __init__(self, url: str, headers: Mapping[str, str], path: str = "") -> None:
        super().__init__(daemon=True, name=f"viewer-{headers.get('X-Remote-User', '')}")
        self.ws_url = url.replace("http", "ws", 1).rstrip("/") + "/_stcore/stream"
        self.headers = dict(headers)
        self.path = path
        self.runs = 0  # full runs and live-part reruns the server finished
        self.first_run: list[str] = []  # the text of the first run's markdown (its header says who is signed in)
        self.error: str | None = None
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def _rerun(self, page_hash: str, fragment_id: str = "") -> bytes:
        state = ClientState(
            query_string="", page_script_hash=page_hash, page_name=self.path, fragment_id=fragment_id,
            is_auto_rerun=bool(fragment_id),
        )  # fmt: skip
        state.context_info.timezone = "America/La_Paz"
        state.context_info.locale = "es-BO"
        return BackMsg(rerun_script=state).SerializeToString()

    def run(self) -> None:
        try:
            with connect(
                self.ws_url, subprotocols=[Subprotocol("streamlit")], additional_headers=self.headers, max_size=None, open_timeout=120
            ) as ws:  # fmt: skip
                ws.send(self._rerun(""))
                page_hash = ""
                due: dict[str, tuple[float, float]] = {}  # fragment id -> (interval, next rerun)
                while not self._stop_event.is_set():
                    wait = min((at for _i, at in due.values()), default=time.monotonic() + 1) - time.monotonic()
                    try:
                        data = ws.recv(timeout=max(0.05, min(wait, 1.0)))
                    except TimeoutError:
                        data = None
                    if isinstance(data, bytes):
                        message = ForwardMsg.FromString(data)
                        kind = message.WhichOneof("type")
                        if kind == "new_session":  # at every run, a live part's too
                            page_hash = message.new_session.page_script_hash
                        elif kind == "auto_rerun":
                            interval = message.auto_rerun.interval
                            due[message.auto_rerun.fragment_id] = (interval, time.monotonic() + interval)
                        elif kind == "stop_auto_rerun":
                            due.clear()
                        elif kind == "script_finished":
                            self.runs += 1
                        elif kind == "delta" and not self.runs and message.delta.new_element.WhichOneof("type") == "markdown":
                            self.first_run.append(message.delta.new_element.markdown.body)
                    now = time.monotonic()
                    for fragment_id, (interval, at) in list(due.items()):
                        if at <= now:
                            ws.send(self._rerun(page_hash, fragment_id))
                            due[fragment_id] = (interval, now + interval)
        except Exception as exc:  # reported by the benchmark: a viewer that dropped loads the server no more
            self.error = f"{type(exc).__name__}: {exc}"


def signed_in_as_themselves(viewers: list[HeadlessViewer]) -> int:
    """How many of ``viewers`` the page greeted by their own name (``X-Remote-User``): a server whose sign-in is
    off shows everyone the whole company, and would measure nobody's scope."""
    return sum(1 for v in viewers if any(v.headers.get("X-Remote-User", "?") in text for text in v.first_run))


def open_viewers(
    url: str, people: Mapping[str, Mapping[str, str]], path: str = "", *, spread_s: float = 10.0
) -> list[HeadlessViewer]:
    """``people`` (name -> request headers) each with ``path`` open, their openings spread evenly over ``spread_s``
    (a live part's interval): people open a page when they do, so their refreshes do not all fall together."""
    viewers = [HeadlessViewer(url, headers, path) for headers in people.values()]
    for viewer in viewers:
        viewer.start()
        time.sleep(spread_s / max(1, len(viewers)))
    return viewers
