"""Connectivity checks as stored: the record every SIAT rule reads (``cucu.connectivity``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cucu.vocabulary import CheckState, ErrorKind


@dataclass(frozen=True)
class ConnectivityCheck:
    """``siat_ok``: True SIAT answers, False SIAT does not, None cucu itself could not be asked."""

    checked_at: datetime
    siat_ok: bool | None
    latency_ms: float | None = None
    error: str | None = None
    error_kind: ErrorKind | None = None
    # Asked by a person ("Comprobar ahora"): shown, but counted by no rule (SIAT down, the policy's
    # up_checks, the alerts), so nobody steers the automatic policy with clicks.
    on_request: bool = False
    id: int | None = None  # the store's id: the order checks were made in (None until stored)

    @property
    def state(self) -> CheckState:
        return CheckState.of(self.siat_ok)

    @property
    def label(self) -> str:
        return self.state.label

    @property
    def failed(self) -> bool:
        """SIAT could not be used: it did not answer, or cucu could not be asked."""
        return self.siat_ok is not True
