"""The "hostile bodies" fault: answers that are the envelope and parse as JSON, but whose data no real
answer holds: wrong types, huge numbers, deep nesting, very long strings, Markdown and HTML in cucu's
texts, a body past any sane size. What a buggy release, a hostile proxy or a compromised upstream could
send; the dashboard must turn each into a Spanish error for the part it hits (or, for ``markup``,
show the text as text) and keep the rest working.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

HOSTILE_KINDS = ("wrong_types", "huge_numbers", "deep_nesting", "long_strings", "markup", "oversized")

# Text that would be a link, an image, a colour, an icon or a script if anything rendered it.
MARKUP = (
    '**[Pulse aquí](http://phish.example/login)** ![x](http://phish.example/x.png) <a href="http://phish.example">y</a> '
    "<b>negrita</b><br><img src=x onerror=alert(1)> :red[alerta] :material/warning: <script>alert(1)</script>"
)
DEEP = 50_000  # levels of nested arrays: json.loads raises RecursionError past about a thousand
LONG = 200_000  # characters of a text field
OVERSIZED_BYTES = 2 * 1024 * 1024  # past any sane cap on a body (the dashboard's is 1 MiB)
_HUGE = "__hostile_huge__"  # a placeholder, written as a number JSON can carry but no program expects


def hostile_response(kind: str, payload: dict[str, Any]) -> Response:
    """``payload`` (a success envelope) turned into an answer of ``kind`` (one of ``HOSTILE_KINDS``)."""
    data = payload.get("data")
    if kind == "oversized":
        body = json.dumps(payload, ensure_ascii=False) + " " * OVERSIZED_BYTES
        return _json(body)
    if kind == "deep_nesting":
        return _json(json.dumps({**payload, "data": _HUGE}).replace(f'"{_HUGE}"', "[" * DEEP + "]" * DEEP))
    if kind == "markup" and not _events(data):
        # Nothing to decorate: cucu says no, with its message in Markdown and HTML.
        return _json(json.dumps({"success": False, "message": MARKUP, "timestamp": payload.get("timestamp")}))
    changed = {**payload, "data": _transform(kind, data)}
    text = json.dumps(changed, ensure_ascii=False)
    if kind == "huge_numbers":  # 1e400 is a float overflow, 5000 digits an int past Python's str limit
        text = text.replace(f'"{_HUGE}"', "1e400", 1).replace(f'"{_HUGE}"', "9" * 5000)
    return _json(text)


def _json(text: str) -> Response:
    return Response(text, status_code=200, media_type="application/json")


def _events(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list):
        return [e for e in data if isinstance(e, dict)]
    return []


def _transform(kind: str, data: Any) -> Any:
    if isinstance(data, list):
        return [_event(kind, e) for e in data] if data else _scalar(kind)
    if isinstance(data, dict):
        return _event(kind, data)
    return _scalar(kind)  # check-connection's bool, or "no active event"'s null


def _event(kind: str, event: dict[str, Any]) -> dict[str, Any]:
    if kind == "wrong_types":
        return {**event, "codigoMotivo": str(event.get("codigoMotivo")), "finalizado": "false", "fechaInicio": 1_732_435_200}
    if kind == "huge_numbers":
        return {**event, "codigoMotivo": _HUGE, "codigoEventoSiat": _HUGE}
    if kind == "long_strings":
        return {**event, "id": "e" * LONG, "descripcionMotivo": "m" * LONG}
    return {**event, "descripcionMotivo": MARKUP, "descripcion": MARKUP}  # markup: valid, but text only


def _scalar(kind: str) -> Any:
    if kind == "wrong_types":
        return {"connected": "sí", "items": "ninguno"}
    if kind == "huge_numbers":
        return _HUGE
    return "x" * LONG  # long_strings
