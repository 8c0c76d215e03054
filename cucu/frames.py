"""pandas frame builders: what the pages show as tables, built without Streamlit."""

from __future__ import annotations

import pandas as pd

from cucu.models import Inventory


def inventory_frame(inventory: Inventory) -> pd.DataFrame:
    """One row per branch: name, city, how many POS and which."""
    rows = [
        {
            "Sucursal": b.name,
            "Ciudad": b.city or "—",
            "Puntos de venta": len(b.pos),
            "Nombres": ", ".join(p.name for p in b.pos),
        }
        for b in inventory.branches
    ]
    return pd.DataFrame(rows, columns=["Sucursal", "Ciudad", "Puntos de venta", "Nombres"])
