"""Who may do what: access modes, roles from a claim or an allow-list, and the decision per person.

Pure logic: the Streamlit side (``ui/identity.py``) gathers what the sign-in mechanism says
(OIDC claims through ``st.user``, or the proxy's user header) and asks :func:`decide`.

- ``oidc``: Streamlit's native sign-in; the role comes from a claim path (``roles``,
  ``groups``, ``realm_access.roles``…) mapped to our roles by ``role_map``.
- ``proxy``: a reverse proxy authenticated the user and passes the name in ``user_header``;
  the header is trusted in this mode only, and only on a request that also carries the shared
  secret the proxy adds (``proxy_secret_header``: ``proxy_secret``). Streamlit listens on
  127.0.0.1, but any process on the machine can reach that port and send any user name: without
  the secret it is nobody.
- ``off``: no sign-in. In DEMO everyone is a supervisor; in SANDBOX and PRODUCCIÓN everyone
  is a viewer unless ``allow_anonymous_supervisors`` says otherwise.

The allow-list ``users`` (user -> role, or ``none``) overrides the claim, so access can be
revoked at once although OIDC claims stay frozen in the session cookie until sign-out. Revocation
wins: a ``none`` entry is compared with every name the sign-in carries (subject, e-mail verified or
not, ``preferred_username``), since a revoked person must not get back in because the identity
provider left out ``email_verified``; a role is granted only to what nobody can choose for
themselves (a verified e-mail, the subject). So an OIDC key says which of the two it is: an e-mail
(with @, or ``email:``) or ``sub:``; a bare ``ana`` could be a subject or a chosen user name and is
refused at start unless it is a ``none``, where every reading revokes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cucu.api.models import Inventory, clip_text
from cucu.organization.regions import region_name
from cucu.organization.scope import WHOLE_COMPANY, Scope, union, unknown_names
from cucu.settings import ENV_PREFIX, ConfigurationError, env_sources, merge_sources, parse_switch
from cucu.vocabulary import AccessMode, Role

NO_ACCESS = "none"  # in [access.users] and default_role: this person may not use the dashboard
EMAIL_KEY, SUBJECT_KEY = "email:", "sub:"  # how an [access.users] key in oidc mode says what it names
_TABLES = {"role_map", "users", "display_tokens"}  # tables and lists of [access]: no environment variable
DISPLAY_PARAM = "pantalla"  # the URL parameter a wall display's token comes in: /pantalla?pantalla=<token>
# What the audit log keeps of a person (its columns, cucu/store/schema.py, are as wide). A user is the key of
# every row and is never cut: an e-mail address has at most 320 characters, an OIDC subject 255; a
# longer one is no identity anyone was given, and may not use the dashboard. A display name is only
# shown: a longer one (an identity provider may send any) is cut, so its owner can still act.
MAX_USER_LENGTH = 320
MAX_NAME_LENGTH = 200


class AccessSettingsError(ConfigurationError):
    """``str(err)`` says, in Spanish, what is wrong in [access] and how to fix it."""


@dataclass(frozen=True)
class AccessSettings:
    mode: AccessMode = AccessMode.OFF
    role_claim: str = "roles"
    role_map: Mapping[str, Role] = field(default_factory=lambda: {r.value: r for r in Role})
    user_header: str = "X-Remote-User"
    proxy_secret_header: str = "X-Proxy-Secret"
    proxy_secret: str = field(default="", repr=False)  # never in a log line or a traceback's locals
    default_role: str = Role.VIEWER.value  # for a signed-in user with no role: viewer, or none (no access)
    allow_anonymous_supervisors: bool = False
    # allow-list: user -> viewer / supervisor / pantalla / none. Keys lower-case; in oidc "email:…" or "sub:…",
    # or a bare name for a "none" (any identifier), see _user_key.
    users: Mapping[str, str] = field(default_factory=dict)
    # The scope of a line of [access.users] or [access.role_map] written as a table ({ role = "supervisor",
    # regions = ["Santa Cruz"] }), by the same key; a line without one covers the whole company.
    user_scopes: Mapping[str, Scope] = field(default_factory=dict)
    role_scopes: Mapping[str, Scope] = field(default_factory=dict)
    # A wall display's tokens by their SHA-256 (never the token), each with its scope: a TV that cannot sign in
    # opens /pantalla?pantalla=<token> and is role pantalla (python -m cucu.access --nuevo-token-pantalla).
    display_tokens: tuple[tuple[str, Scope], ...] = field(default=(), repr=False)

    def scopes(self) -> dict[str, Scope]:
        """Every scope written, by where it is written (``[access.users] «ana»``), to check against the inventory."""
        return {
            **{f"[access.users] «{_listed_name(k)}»": v for k, v in self.user_scopes.items()},
            **{f"[access.role_map] «{k}»": v for k, v in self.role_scopes.items()},
            **{f"[access].display_tokens «{d[:8]}…»": v for d, v in self.display_tokens},
        }


_SOURCES = env_sources((f for f in dataclasses.fields(AccessSettings) if f.name not in _TABLES), f"{ENV_PREFIX}ACCESS_")


@dataclass(frozen=True)
class Identity:
    """What the sign-in mechanism says about the person (nothing from the browser's own requests)."""

    user: str  # e-mail, subject or user name: the audit log's name (the allow-list also reads the claims)
    name: str | None = None  # as the audit log keeps it: see person_name
    claims: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", person_name(self.name))


def person_name(value: object) -> str | None:
    """A sign-in's display name as the dashboard keeps it: text, trimmed, cut to ``MAX_NAME_LENGTH``;
    None for anything else (a claim may hold a number or a list)."""
    if not isinstance(value, str) or not value.strip():
        return None
    return clip_text(value.strip(), MAX_NAME_LENGTH)


@dataclass(frozen=True)
class Decision:
    """``role`` is None when the person may not use the dashboard at all."""

    user: str
    name: str | None
    role: Role | None
    reason: str  # why this role, in Spanish (shown to the person and in logs)
    signed_in: bool
    scope: Scope = WHOLE_COMPANY  # the branches this person sees and acts on (cucu.organization.scope)

    @property
    def can_act(self) -> bool:
        return self.role is not None and self.role.can_act


def load_access(section: Mapping[str, Any] | None, environ: Mapping[str, str]) -> AccessSettings:
    section = dict(section or {})
    unknown = sorted(set(section) - {k for _, k in _SOURCES.values()} - _TABLES)
    if unknown:
        raise AccessSettingsError(f"La tabla [access] tiene claves desconocidas: {', '.join(unknown)}.")
    raw = merge_sources(_SOURCES, section, environ)
    defaults = AccessSettings()
    mode = str(raw["mode"] or defaults.mode).strip().lower()
    if mode not in tuple(AccessMode):
        modes = f"{', '.join(list(AccessMode)[:-1])} u {list(AccessMode)[-1]}"  # "u": the last one is "off"
        raise AccessSettingsError(f"[access].mode ({_SOURCES['mode'][0]}) debe ser {modes}; se recibió «{raw['mode']}».")
    default_role = str(raw["default_role"] or defaults.default_role).strip().lower()
    if default_role not in (Role.VIEWER, NO_ACCESS):
        raise AccessSettingsError(f"[access].default_role debe ser {Role.VIEWER} o {NO_ACCESS} (sin acceso).")
    mode = AccessMode(mode)
    roles = tuple(r.value for r in Role)
    role_map, role_scopes = _grants("role_map", section.get("role_map", defaults.role_map), roles)
    users, user_scopes = _grants("users", section.get("users", {}), (*roles, NO_ACCESS))
    keys = _user_keys(mode, users)
    by_written = {written: _user_key(mode, written, role) for written, role in users.items()}
    return AccessSettings(
        mode=mode,
        role_claim=str(raw["role_claim"] or defaults.role_claim).strip(),
        role_map={k: Role(v) for k, v in role_map.items()},
        user_header=str(raw["user_header"] or defaults.user_header),
        proxy_secret_header=str(raw["proxy_secret_header"] or defaults.proxy_secret_header),
        proxy_secret=str(raw["proxy_secret"] or defaults.proxy_secret),
        default_role=default_role,
        allow_anonymous_supervisors=parse_switch(
            raw["allow_anonymous_supervisors"],
            f"[access].allow_anonymous_supervisors ({_SOURCES['allow_anonymous_supervisors'][0]})",
            default=defaults.allow_anonymous_supervisors,
            error=AccessSettingsError,
        ),
        users=keys,
        user_scopes={by_written[k]: v for k, v in user_scopes.items()},
        role_scopes=role_scopes,
        display_tokens=_display_tokens(section.get("display_tokens", [])),
    )


def token_digest(token: str) -> str:
    """How a token is kept in the settings: its SHA-256, never the token itself."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_allowed(token: str | None, digests: Iterable[str]) -> bool:
    """Whether ``token`` is one of those whose digest the operator listed (compared in constant time)."""
    if not token:
        return False
    given = token_digest(token)
    return any(hmac.compare_digest(given, digest) for digest in digests)


def is_digest(text: object) -> bool:
    return isinstance(text, str) and len(text) == 64 and all(c in "0123456789abcdef" for c in text.lower())


def new_token() -> tuple[str, str]:
    """A fresh token and its SHA-256 (the digest goes in the settings, the token to whoever presents it)."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


_DISPLAY_HELP = (
    '[access].display_tokens lista los SHA-256 de las claves de pantalla: ["<sha256>"] o '
    '[{ sha256 = "<sha256>", regions = ["Santa Cruz"] }]; créelas con: python -m cucu.access --nuevo-token-pantalla'
)


def _display_tokens(listed: object) -> tuple[tuple[str, Scope], ...]:
    if not isinstance(listed, list):
        raise AccessSettingsError(_DISPLAY_HELP)
    found = []
    for entry in listed:
        table = entry if isinstance(entry, Mapping) else {"sha256": entry}
        digest = table.get("sha256")
        if not is_digest(digest) or set(table) - {"sha256", "regions", "branches"}:
            raise AccessSettingsError(_DISPLAY_HELP)
        scope = _scope(f"[access].display_tokens «{str(digest)[:8]}…»", table)
        found.append((str(digest).lower(), scope or WHOLE_COMPANY))
    return tuple(found)


def display_decision(settings: AccessSettings, token: str | None) -> Decision | None:
    """The wall display a token in the URL stands for (role pantalla, its scope), or None."""
    if not token:
        return None
    given = token_digest(token)
    for digest, scope in settings.display_tokens:
        if hmac.compare_digest(given, digest):
            return Decision(
                f"pantalla {digest[:8]}", "Pantalla", Role.DISPLAY, "Pantalla de pared (clave de pantalla).", True, scope
            )
    return None


_GRANT_KEYS = {"role", "regions", "branches"}


def _grants(table: str, values: object, allowed: tuple[str, ...]) -> tuple[dict[str, str], dict[str, Scope]]:
    """A [access.users] or [access.role_map] table: each key's role, and the scope of those written as a table
    (``{ role = "supervisor", regions = ["Santa Cruz"], branches = ["<id>"] }``). AccessSettingsError in Spanish."""
    if not isinstance(values, Mapping):
        raise AccessSettingsError(f"[access.{table}] debe ser una tabla.")
    roles: dict[str, str] = {}
    scopes: dict[str, Scope] = {}
    for written, value in values.items():
        key, where = str(written), f"[access.{table}] «{written}»"
        grant = value if isinstance(value, Mapping) else {"role": value}
        unknown = sorted(set(grant) - _GRANT_KEYS)
        if unknown:
            raise AccessSettingsError(f"{where} tiene claves desconocidas: {', '.join(unknown)} (use role, regions, branches).")
        role = str(grant.get("role", "")).strip().lower()
        if role not in allowed:
            raise AccessSettingsError(f"{where} = «{grant.get('role', '')}»: el rol debe ser {', '.join(allowed)}.")
        roles[key] = role
        scope = _scope(where, grant) if isinstance(value, Mapping) else None
        if scope is not None and role == NO_ACCESS:
            raise AccessSettingsError(f"{where}: «{NO_ACCESS}» no tiene alcance; quite regions y branches.")
        if scope is not None:
            scopes[key] = scope
    return roles, scopes


def _scope(where: str, grant: Mapping[str, Any]) -> Scope | None:
    """The scope a table of [access] gives (``regions``, ``branches``), or None when it names neither."""
    lists = {}
    for name in ("regions", "branches"):
        items = grant.get(name, [])
        if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
            raise AccessSettingsError(f'{where}: {name} debe ser una lista de textos, como ["Santa Cruz"].')
        lists[name] = items
    if "regions" not in grant and "branches" not in grant:
        return None
    if not lists["regions"] and not lists["branches"]:  # an empty list must not read as the whole company
        raise AccessSettingsError(f"{where}: regions y branches están vacías; quítelas para toda la empresa.")
    return Scope(frozenset(region_name(r) for r in lists["regions"]), frozenset(b.strip() for b in lists["branches"]))


def scope_problem(settings: AccessSettings, inventory: Inventory) -> str | None:
    """Why a scope in [access] names what the inventory lacks, in Spanish; None when every one is known. A typo
    in a region must stop the dashboard, not show a regional supervisor an empty chain."""
    for where, scope in settings.scopes().items():
        unknown = unknown_names(scope, inventory)
        if unknown:
            return f"{where}: el inventario no tiene {' ni '.join(unknown)}. Corrija el nombre (o el id de la sucursal)."
    return None


def _looks_like_email(text: str) -> bool:
    local, at, domain = text.partition("@")
    return bool(at and local and domain) and "@" not in domain and not any(c.isspace() for c in text)


def _listed_name(key: str) -> str:
    """The name an [access.users] key compares, without its ``email:``/``sub:``."""
    for prefix in (EMAIL_KEY, SUBJECT_KEY):
        if key.startswith(prefix):
            return key.removeprefix(prefix)
    return key


def _user_key(mode: AccessMode, written: str, role: str) -> str:
    """One [access.users] key as :func:`decide` looks it up, or AccessSettingsError when it could be read two ways."""
    key = written.strip().lower()
    prefix = next((p for p in (EMAIL_KEY, SUBJECT_KEY) if key.startswith(p)), "")
    if mode == AccessMode.PROXY:
        if prefix:  # nginx sends the user name only; "sub:" would never match, and a "none" would not revoke
            raise AccessSettingsError(
                f"[access.users] «{written}»: en modo proxy la clave es el usuario que envía nginx, "
                f"sin «{EMAIL_KEY}» ni «{SUBJECT_KEY}»."
            )
        return key
    if mode != AccessMode.OIDC:
        return key  # mode off reads no list
    if prefix:
        name = key.removeprefix(prefix).strip()
        if not name:
            raise AccessSettingsError(f"[access.users] «{written}»: falta lo que va después de «{prefix}».")
        if prefix == EMAIL_KEY and not _looks_like_email(name):
            raise AccessSettingsError(f"[access.users] «{written}»: «{name}» no es una dirección de correo.")
        return prefix + name
    if _looks_like_email(key):
        return EMAIL_KEY + key
    if role == NO_ACCESS:
        return key  # subject or user name: either reading revokes, so both do
    raise AccessSettingsError(
        f"[access.users] «{written}»: puede ser el sujeto (sub) de una cuenta o un nombre de usuario "
        "(preferred_username), que la persona puede elegir, y un rol solo se da a lo primero. "
        f"Escriba «{SUBJECT_KEY}{written.strip()}» si es el sujeto que envía el proveedor de identidad, "
        "o use el correo de la persona."
    )


def _user_keys(mode: AccessMode, users: Mapping[str, str]) -> dict[str, str]:
    keys: dict[str, str] = {}
    written_as: dict[str, str] = {}  # the compared name -> the key as written, to name both in a refusal
    for written, role in users.items():
        key = _user_key(mode, str(written), role)
        name = _listed_name(key)
        if mode != AccessMode.OFF and name in written_as:
            # One text as two keys ("Ana" and "ana", or "sub:x" and the e-mail x): which line holds?
            raise AccessSettingsError(
                f"[access.users] «{written_as[name]}» y «{written}» nombran lo mismo («{name}»): "
                "deje una sola línea para esa persona."
            )
        written_as[name] = str(written)
        keys[key] = role
    return keys


MIN_SECRET_BYTES = 32
PLACEHOLDER_PREFIX = "reemplace"  # how deploy/secrets/*.example mark a value to fill in
_NEW_SECRET = "python3 -c 'import secrets; print(secrets.token_hex(32))'"


def _secret_problem(value: object, name: str, missing: str, fix: str) -> str | None:
    """Why a shared secret cannot protect what it signs or proves, in Spanish; never its value."""
    if not isinstance(value, str) or not value.strip():
        return f"Falta {name} en .streamlit/secrets.toml ({missing}). {fix}"
    if value.strip().lower().startswith(PLACEHOLDER_PREFIX):
        return f"{name} es todavía el texto del ejemplo. {fix}"
    if len(value.encode()) < MIN_SECRET_BYTES:
        return f"{name} tiene {len(value.encode())} bytes; se necesitan al menos {MIN_SECRET_BYTES}. {fix}"
    return None


def cookie_secret_problem(value: object) -> str | None:
    """Why ``[auth].cookie_secret`` cannot protect the sign-in cookie, in Spanish; None when it can.

    Streamlit signs the identity cookie with it: a missing, short or example secret lets anyone
    who reads the example forge a supervisor's session.
    """
    return _secret_problem(
        value,
        "[auth].cookie_secret",
        "el modo oidc lo necesita para firmar la sesión",
        f"Genere uno con: {_NEW_SECRET} y reinicie el tablero.",
    )


def proxy_secret_problem(value: object) -> str | None:
    """Why ``[access].proxy_secret`` cannot tell nginx's requests from anyone else's, in Spanish; None when it can.

    A missing, short or example secret lets any process that reaches Streamlit's port claim to be a
    supervisor by sending the user header itself.
    """
    return _secret_problem(
        value,
        "[access].proxy_secret",
        "el modo proxy lo necesita para confiar en la cabecera del usuario",
        f"Genere uno con: {_NEW_SECRET}, póngalo también en /etc/nginx/contingencia-secret.conf "
        "(vea el README) y reinicie el tablero.",
    )


def proxy_identity(settings: AccessSettings, header_values: Callable[[str], Sequence[str]]) -> Identity | None:
    """Who the proxy says this request is, or None (nobody).

    ``header_values(name)`` gives every value of a request header (``st.context.headers.get_all``).
    The user header counts only next to exactly one copy of the proxy's secret, compared in
    constant time; a request with two user names is nobody rather than a guess between them.
    """
    if settings.mode != AccessMode.PROXY or proxy_secret_problem(settings.proxy_secret):
        return None
    secrets = header_values(settings.proxy_secret_header)
    if len(secrets) != 1 or not hmac.compare_digest(secrets[0].encode(), settings.proxy_secret.encode()):
        return None
    users = [u.strip() for u in header_values(settings.user_header)]
    if len(users) != 1 or not users[0]:
        return None
    return Identity(users[0])


def oidc_user(claims: Mapping[str, Any]) -> str | None:
    """Who an OIDC sign-in is, as the audit log names them: the e-mail when the identity provider says
    it verified it (``email_verified``), else the subject (``sub``). Never ``preferred_username`` or
    an unverified e-mail: anyone may set those to a supervisor's address."""
    email = claims.get("email")
    if isinstance(email, str) and email.strip() and claims.get("email_verified") is True:
        return email.strip()
    subject = claims.get("sub")
    return str(subject) if subject else None


def claim_values(claims: Mapping[str, Any], path: str) -> list[str]:
    """The values at a dotted claim path: ``roles``, ``groups``, ``realm_access.roles``…"""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return []
        value = value[part]
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return []


def _claim_text(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    text = str(value).strip().lower() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return text or None


def _names(settings: AccessSettings, identity: Identity) -> tuple[set[str], set[str]]:
    """Every name the sign-in carries (what a "none" is compared with), and the [access.users] keys
    that may grant it a role."""
    user = identity.user.strip().lower()
    if settings.mode != AccessMode.OIDC:
        return {user}, {user}
    claims = identity.claims
    email, subject, username = (_claim_text(claims, n) for n in ("email", "sub", "preferred_username"))
    grants = set()
    if email and claims.get("email_verified") is True:
        grants.add(EMAIL_KEY + email)
    if subject:
        grants.add(SUBJECT_KEY + subject)
    if not grants:  # an Identity made without its claims: its user is a verified e-mail or the subject
        grants.add((EMAIL_KEY if _looks_like_email(user) else SUBJECT_KEY) + user)
    return {n for n in (user, email, subject, username) if n}, grants


DEMO_EVERYONE_SUPERVISES = "Modo DEMO: todos son supervisores."  # short: the collapsed sidebar must not scroll (axe)


def decide(settings: AccessSettings, identity: Identity | None, *, demo: bool) -> Decision:
    """The role of this person right now. ``identity`` is None when nobody is signed in."""
    if settings.mode == AccessMode.OFF:
        if demo:
            return Decision("anónimo", None, Role.SUPERVISOR, DEMO_EVERYONE_SUPERVISES, False)
        if settings.allow_anonymous_supervisors:
            why = "acceso anónimo de supervisores permitido en la configuración"
            return Decision("anónimo", None, Role.SUPERVISOR, f"Sin inicio de sesión ({why}).", False)
        return Decision("anónimo", None, Role.VIEWER, "Sin inicio de sesión: solo lectura.", False)
    if identity is None:
        return Decision("", None, None, "Debe iniciar sesión.", False)
    if len(identity.user) > MAX_USER_LENGTH:
        why = f"Su identificador de usuario tiene {len(identity.user)} caracteres; el máximo es {MAX_USER_LENGTH}."
        return Decision(identity.user, identity.name, None, why, True)

    names, grant_keys = _names(settings, identity)
    if any(role == NO_ACCESS and _listed_name(key) in names for key, role in settings.users.items()):
        return Decision(identity.user, identity.name, None, "Su acceso fue retirado en la lista de usuarios.", True)
    lines = {key: Role(role) for key, role in settings.users.items() if key in grant_keys and role != NO_ACCESS}
    if lines:  # the e-mail's line and the subject's disagree: the lesser (Role lists the least first)
        role = min(lines.values(), key=list(Role).index)
        # and the narrower scope: a line that names one (a whole-company line of the same person does not widen it)
        scoped = [settings.user_scopes[k] for k, r in lines.items() if r is role and k in settings.user_scopes]
        return Decision(identity.user, identity.name, role, "Rol asignado en la lista de usuarios.", True, union(scoped))
    if settings.mode == AccessMode.OIDC:
        groups = [v for v in claim_values(identity.claims, settings.role_claim) if v in settings.role_map]
        for role, why in (
            (Role.SUPERVISOR, "Rol de supervisor"),
            (Role.VIEWER, "Rol de observador"),
            (Role.DISPLAY, "Pantalla de pared"),
        ):
            granting = [g for g in groups if settings.role_map[g] is role]
            if granting:  # each group adds its branches: the whole company when one of them is not scoped
                scope = union(settings.role_scopes.get(g, WHOLE_COMPANY) for g in granting)
                return Decision(identity.user, identity.name, role, f"{why} según «{settings.role_claim}».", True, scope)
    if settings.default_role == NO_ACCESS:
        return Decision(identity.user, identity.name, None, "Su usuario no tiene un rol asignado en este tablero.", True)
    return Decision(identity.user, identity.name, Role.VIEWER, "Sin rol asignado: solo lectura.", True)


def main() -> None:
    """``python -m cucu.access --nuevo-token-pantalla``: a wall display's token and the digest to list."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m cucu.access", description="Claves de pantalla de pared.")
    parser.add_argument("--nuevo-token-pantalla", action="store_true", help="crea una clave y muestra su SHA-256")
    if parser.parse_args().nuevo_token_pantalla:
        token, digest = new_token()
        print(f"Clave (va en la dirección de la pantalla: /pantalla?{DISPLAY_PARAM}=…): {token}")
        print(f'SHA-256 (va en [access].display_tokens de secrets.toml): "{digest}"')
    else:
        parser.print_help()


if __name__ == "__main__":
    main()
