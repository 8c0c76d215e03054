"""SIAT's reception and validation codes, in a supervisor's words: what the code means and what to do.

From SIAT's published codes (see the BRIEF's "SIAT rules"): 901 pending, 902 rejected, 904 observed, 908
validated; 983 and 993 out of time; 1040 and 1041 dates outside what the rules allow; 123, 967, 991, 995 and
999 are SIAT's own transient failures, worth retrying. Any other code is shown with SIAT's own words.
"""

from __future__ import annotations

RETRY = "Falla pasajera de SIAT: reintente el envío."
SIAT_CODE_MEANING: dict[int, str] = {
    901: "Recibida, pendiente de validación en SIAT: espere su resultado.",
    902: "Rechazada por SIAT: corrija el dato que indica y vuelva a emitirla.",
    904: "Observada por SIAT: revise la observación antes de que venza el plazo.",
    908: "Validada por SIAT.",
    983: "Enviada fuera de plazo: SIAT ya no la acepta; consulte con su contador.",
    993: "Paquete enviado fuera de plazo: SIAT ya no lo acepta; consulte con su contador.",
    1040: "Fecha de emisión fuera del rango del evento de contingencia: revise las fechas del evento y de la factura.",
    1041: "Fuera del período que fijan las normas: revise la fecha de emisión.",
    **dict.fromkeys((123, 967, 991, 995, 999), RETRY),
}


def explain_siat_code(code: int | None, said: str | None) -> str:
    """The code with what it means and what to do, or SIAT's own words for a code this table lacks."""
    said = " ".join((said or "").split())
    if code is None:
        return said or "SIAT no indicó un código."
    meaning = SIAT_CODE_MEANING.get(code)
    if meaning is None:
        return f"{code}: {said}" if said else f"Código {code} de SIAT."
    return f"{code}: {meaning}" + (f" SIAT dice: «{said}»" if said and code not in (901, 908) else "")
