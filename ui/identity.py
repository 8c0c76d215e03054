"""Who is using this browser session, and their role: the one place that reads identity.

Identity comes only from the configured mechanism: OIDC claims (``st.user``) in ``oidc``
mode, the proxy's user header next to the proxy's shared secret in ``proxy`` mode, nothing in ``off`` mode. Never from query
parameters or anything else the browser controls, but for one credential: a wall display's token (``?pantalla=``),
which is role pantalla only when its SHA-256 is listed in ``[access].display_tokens``. Tests replace
:func:`signed_in_identity`.
"""

from __future__ import annotations

import logging
import os
import uuid

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from cucu.access import (
    DISPLAY_PARAM,
    AccessSettings,
    AccessSettingsError,
    Decision,
    Identity,
    cookie_secret_problem,
    decide,
    display_decision,
    load_access,
    oidc_user,
    proxy_identity,
    proxy_secret_problem,
)
from cucu.events.actions import Actor
from cucu.settings import Settings, plain_data
from cucu.vocabulary import AccessMode, Mode

_SESSION_KEY = "_contingencia_sesion"
_IGNORED_USER_KEY = "_contingencia_usuario_sin_secreto"  # warned once per session, not at every rerun
log = logging.getLogger("contingencia")


def read_access() -> AccessSettings:
    """[access] from secrets.toml, environment overrides. Raises ``AccessSettingsError``."""
    try:
        section = st.secrets.get("access", {})
    except StreamlitSecretNotFoundError:
        section = {}  # read_settings() already explained a broken secrets file
    if not hasattr(section, "keys"):
        raise AccessSettingsError("En .streamlit/secrets.toml, «access» debe ser una tabla [access].")
    return load_access(plain_data(section), os.environ)


def check_sign_in_secrets(access: AccessSettings) -> None:
    """Refuse to start without the secret the mode's trust rests on: ``[auth].cookie_secret`` in oidc,
    ``[access].proxy_secret`` in proxy. Raises ``AccessSettingsError``."""
    if access.mode == AccessMode.PROXY and (problem := proxy_secret_problem(access.proxy_secret)):
        raise AccessSettingsError(problem)
    if access.mode != AccessMode.OIDC:
        return
    try:
        auth = st.secrets.get("auth", {})
    except StreamlitSecretNotFoundError:
        auth = {}
    problem = cookie_secret_problem(auth.get("cookie_secret") if hasattr(auth, "get") else None)
    if problem:
        raise AccessSettingsError(problem)


def signed_in_identity(access: AccessSettings) -> Identity | None:
    """What the configured sign-in mechanism says, or None."""
    if access.mode == AccessMode.OIDC:
        try:
            if not st.user.is_logged_in:
                return None
            claims = plain_data(st.user.to_dict())
        except Exception:  # sign-in not configured: nobody is signed in
            return None
        return Identity(str(user), claims.get("name"), claims) if (user := oidc_user(claims)) else None
    if access.mode == AccessMode.PROXY:
        identity = proxy_identity(access, st.context.headers.get_all)
        if identity is None and st.context.headers.get_all(access.user_header) and _IGNORED_USER_KEY not in st.session_state:
            st.session_state[_IGNORED_USER_KEY] = True
            # For the operator: a request past nginx, or nginx and secrets.toml holding different secrets.
            log.warning(
                "cabecera %s sin el secreto del proxy válido en %s: se ignora (la sesión no tiene usuario)",
                access.user_header,
                access.proxy_secret_header,
            )
        return identity
    return None


def current_decision(access: AccessSettings, *, demo: bool) -> Decision:
    decision = decide(access, signed_in_identity(access), demo=demo)
    if access.display_tokens and not decision.signed_in:
        # A wall display that cannot sign in: the operator's token in its URL (a credential, not an identity
        # the browser chooses: only a listed digest's token is anyone), role pantalla with the token's scope.
        shown = display_decision(access, st.query_params.get(DISPLAY_PARAM))
        if shown is not None:
            return shown
    return decision


def current_actor(access: AccessSettings, *, demo: bool) -> Actor:
    """The person acting now, with their role as decided at this moment."""
    decision = current_decision(access, demo=demo)
    if decision.signed_in:
        return Actor(decision.user, decision.name, decision.role, decision.scope)
    # No sign-in: the browser session is the best "who" there is.
    if _SESSION_KEY not in st.session_state:
        st.session_state[_SESSION_KEY] = uuid.uuid4().hex[:10]
    session = st.session_state[_SESSION_KEY]
    ip = getattr(st.context, "ip_address", None)
    return Actor(f"sesión {session}", f"Sesión {session}" + (f" ({ip})" if ip else ""), decision.role, decision.scope)


def actor_now(settings: Settings) -> Actor:
    """Who acts at the moment of a confirmed action. Read afresh (not from the page's context): a
    dialog's confirmation is a later run, and a role revoked in [access.users] meanwhile must hold."""
    return current_actor(read_access(), demo=settings.mode is Mode.DEMO)
