"""The HTTP face of the simulator: a Starlette app with the cucu events API and admin routes.

API routes go through :func:`_api_call`, which applies the faults in the order a real
deployment would show them: network latency, the gateway's key check, rate limiting,
upstream errors, hangs, the handler itself, and finally a garbled (or hostile) body on the way out.
The ``/_sim/*`` admin routes are never subject to faults nor to the API key.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from cucu.api.models import format_api_datetime
from cucu.simulator.faults import WRITE_ROUTES, FaultPlan, FaultsError
from cucu.simulator.hostile import hostile_response
from cucu.simulator.state import ApiError, Simulator

Handler = Callable[[Request], Awaitable[Any]]

_NO_BODY = object()

_BAD_GATEWAY_HTML = """<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""

_MAINTENANCE_HTML = """<!DOCTYPE html>
<html lang="es">
<head><meta charset="utf-8"><title>Servicio no disponible</title></head>
<body><h1>Estamos realizando tareas de mantenimiento</h1>
<p>Por favor, intente nuevamente en unos minutos.</p></body>
</html>
"""


def create_app(simulator: Simulator) -> Starlette:
    sim = simulator

    async def pause(seconds: float) -> bool:
        """Sleep, but wake up early when the server stops; ``False`` if cut short.

        Hangs last 30 s by default: without this, stopping the server would wait for them
        (or cancel them noisily after uvicorn's graceful timeout).
        """
        deadline = asyncio.get_running_loop().time() + seconds
        while not app.state.closing:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return True
            await asyncio.sleep(min(remaining, 0.05))
        return False

    def envelope(data: Any) -> dict[str, Any]:
        return {"success": True, "data": data, "timestamp": format_api_datetime(sim.now())}

    def error(status: int, message: str, errors: list[str] | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
        body: dict[str, Any] = {
            "success": False,
            "status": status,
            "message": message,
            "timestamp": format_api_datetime(sim.now()),
        }
        if errors:
            body["errors"] = errors
        return JSONResponse(body, status_code=status, headers=headers)

    def upstream_error(plan: FaultPlan) -> Response:
        status = plan.error_status or 500
        if plan.error_body == "html":
            return HTMLResponse(_BAD_GATEWAY_HTML, status_code=status)
        if plan.error_body == "text":
            return PlainTextResponse("Service Unavailable", status_code=status)
        messages = {
            500: "Error interno del servidor.",
            502: "Error de comunicación con el servicio de facturación.",
            503: "Servicio temporalmente no disponible.",
        }
        return error(status, messages.get(status, "Error del servidor."))

    def malformed(payload: dict[str, Any]) -> Response:
        kind = sim.next_malformed_kind()
        if kind == "html":
            # A captive portal or maintenance page answered in place of the API.
            return HTMLResponse(_MAINTENANCE_HTML, status_code=200)
        text = json.dumps(payload, ensure_ascii=False)
        if kind == "truncated":
            return Response(text[: max(1, len(text) // 2)], status_code=200, media_type="application/json")
        # Valid JSON, but not the envelope: the data without ``success``.
        return JSONResponse({"data": payload.get("data"), "timestamp": payload.get("timestamp")}, status_code=200)

    async def read_json(request: Request) -> Any:
        raw = await request.body()
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "El cuerpo de la solicitud no es JSON válido.", ["body: JSON inválido."]) from None

    late_writes: set[asyncio.Task[None]] = set()  # held until done (the loop keeps only weak references)

    async def land_late(handler: Handler, request: Request, delay_s: float) -> None:
        if await pause(delay_s):
            with contextlib.suppress(ApiError):  # refused when it landed (the POS got an event meanwhile)
                await handler(request)

    def api(route: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            status = 500
            try:
                response = await _api_call(route, handler, request)
                status = response.status_code
                return response
            finally:
                # Also when the call is cancelled (server shutdown), so in_flight stays right.
                sim.record_status(status)

        return endpoint

    async def _api_call(route: str, handler: Handler, request: Request) -> Response:
        plan = sim.plan_call(route)
        if plan.latency_s > 0:
            await pause(plan.latency_s)
        try:
            sim.check_key(request.headers.get("x-api-key"))
        except ApiError as exc:
            return error(exc.status, exc.message)
        if plan.rate_limited:
            return error(
                429,
                f"Demasiadas solicitudes. Intente nuevamente en {plan.retry_after_s} s.",
                headers={"Retry-After": str(plan.retry_after_s)},
            )
        if plan.error_status is not None:
            return upstream_error(plan)
        if plan.hang_s is not None and not plan.hang_after_commit:
            # The request never reaches the service: after the hang, the gateway gives up. Unless
            # late_write_s: it did, and the write lands after the answer was due.
            if plan.late_write_s > 0 and route in WRITE_ROUTES:
                await request.body()  # read now: the handler runs after this answer is gone
                late = asyncio.create_task(land_late(handler, request, plan.hang_s + plan.late_write_s))
                late_writes.add(late)
                late.add_done_callback(late_writes.discard)
            if not await pause(plan.hang_s):
                return error(503, "El simulador se está deteniendo.")
            return error(504, "Tiempo de espera agotado en la pasarela.")
        try:
            result = await handler(request)
        except ApiError as exc:
            result = error(exc.status, exc.message, exc.errors)
        if plan.hang_s is not None:
            # hang_after_commit: the write took effect, the answer comes too late.
            await pause(plan.hang_s)
        if isinstance(result, Response):
            return result  # errors and ready-made answers are never garbled
        payload = envelope(result)
        if plan.malformed:
            return malformed(payload)
        if plan.hostile:
            return hostile_response(sim.next_hostile_kind(), payload)
        return JSONResponse(payload)

    # ------------------------------------------------------------------ API handlers

    async def start(request: Request) -> Any:
        return sim.start_event(await read_json(request))

    async def end(request: Request) -> Any:
        return sim.end_event(await read_json(request))

    async def by_date(request: Request) -> Any:
        return sim.events_on_date(await read_json(request))

    async def active(request: Request) -> Any:
        event = sim.active_event(request.path_params["pos_id"])
        if event is not None:
            return event
        shape = sim.faults.no_active_shape
        message = "El punto de venta no tiene un evento activo."
        if shape == "404":
            raise ApiError(404, message)
        if shape == "success_false":
            return JSONResponse(
                {"success": False, "message": message, "timestamp": format_api_datetime(sim.now())},
                status_code=200,
            )
        return None

    async def check_connection(request: Request) -> Any:
        return sim.siat_up()

    async def cufd(request: Request) -> Any:
        return sim.cufd(request.path_params["pos_id"])

    async def renew_cufd(request: Request) -> Any:
        return sim.renew_cufd(await read_json(request))

    async def invoices(request: Request) -> Any:
        return sim.invoices_page(request.query_params.get("page"), request.query_params.get("size"))

    async def invoice_status(request: Request) -> Any:
        return sim.invoice_status(request.path_params["invoice_id"])

    # ------------------------------------------------------------------ admin handlers

    async def admin_read_json(request: Request) -> Any:
        raw = await request.body()
        try:
            return json.loads(raw) if raw.strip() else {}
        except (ValueError, UnicodeDecodeError):
            return _NO_BODY

    async def faults(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(envelope(sim.faults.to_dict()))
        body = await admin_read_json(request)
        if body is _NO_BODY:
            return error(400, "El cuerpo no es JSON válido.")
        try:
            faults = sim.update_faults(body)
        except FaultsError as exc:
            return error(400, str(exc))
        return JSONResponse(envelope(faults.to_dict()))

    async def reset(request: Request) -> Response:
        sim.reset()
        return JSONResponse(envelope({"events": len(sim.events()), "faults": sim.faults.to_dict()}))

    async def get_stats(request: Request) -> Response:
        return JSONResponse(envelope(sim.stats()))

    async def reset_stats(request: Request) -> Response:
        sim.reset_stats()
        return JSONResponse(envelope(sim.stats()))

    routes = [
        Route("/api/v1/events/start", api("POST /api/v1/events/start", start), methods=["POST"]),
        Route("/api/v1/events/end", api("POST /api/v1/events/end", end), methods=["POST"]),
        Route("/api/v1/events", api("POST /api/v1/events", by_date), methods=["POST"]),
        Route(
            "/api/v1/events/check-connection",
            api("GET /api/v1/events/check-connection", check_connection),
            methods=["GET"],
        ),
        Route("/api/v1/events/active/{pos_id}", api("GET /api/v1/events/active/{posId}", active), methods=["GET"]),
        Route("/api/v1/codes/cufd/{pos_id}", api("GET /api/v1/codes/cufd/{posId}", cufd), methods=["GET"]),
        Route("/api/v1/codes/cufd", api("POST /api/v1/codes/cufd", renew_cufd), methods=["POST"]),
        Route("/api/v1/invoices", api("GET /api/v1/invoices", invoices), methods=["GET"]),
        Route("/api/v1/invoices/{invoice_id}/status", api("GET /api/v1/invoices/{id}/status", invoice_status), methods=["GET"]),
        Route("/_sim/faults", faults, methods=["GET", "PUT"]),
        Route("/_sim/reset", reset, methods=["POST"]),
        Route("/_sim/stats", get_stats, methods=["GET"]),
        Route("/_sim/stats/reset", reset_stats, methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    # Set by SimulatorServer.stop(): a plain bool, read by pause() across threads.
    app.state.closing = False
    return app
