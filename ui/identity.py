"""Who is using this browser session: the one place that reads identity (tests replace it)."""

from __future__ import annotations

import uuid

import streamlit as st

from cucu.actions import Actor

_SESSION_KEY = "_contingencia_sesion"


def current_actor() -> Actor:
    """The signed-in user where there is one; otherwise this browser session (no sign-in yet)."""
    user = getattr(st, "user", None)
    try:
        if user is not None and user.get("is_logged_in"):
            ident = user.get("email") or user.get("sub") or user.get("name")
            if ident:
                return Actor(str(ident), user.get("name"), None)
    except Exception:  # no auth configured: st.user has nothing to say
        pass
    if _SESSION_KEY not in st.session_state:
        st.session_state[_SESSION_KEY] = uuid.uuid4().hex[:10]
    session = st.session_state[_SESSION_KEY]
    ip = getattr(st.context, "ip_address", None)
    return Actor(f"sesión {session}", f"Sesión {session}" + (f" ({ip})" if ip else ""), None)
