"""Access settings and the role decision in each mode."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from cucu.access import AccessSettingsError, Identity, claim_values, decide, load_access
from cucu.vocabulary import Role


def test_defaults_are_off_and_safe():
    s = load_access({}, {})
    assert (s.mode, s.role_claim, s.user_header, s.default_role, s.allow_anonymous_supervisors) == (
        "off",
        "roles",
        "X-Remote-User",
        "viewer",
        False,
    )


def test_environment_overrides_the_table():
    s = load_access({"mode": "oidc", "role_claim": "groups"}, {"CUCU_ACCESS_MODE": "proxy", "CUCU_ACCESS_USER_HEADER": "X-User"})
    assert (s.mode, s.role_claim, s.user_header) == ("proxy", "groups", "X-User")


def test_blank_values_count_as_unset_like_in_cucu_settings():
    # An env file line "CUCU_ACCESS_MODE=" must not erase the mode chosen in secrets.toml.
    s = load_access(
        {"mode": "proxy", "user_header": " "}, {"CUCU_ACCESS_MODE": "  ", "CUCU_ACCESS_ALLOW_ANONYMOUS_SUPERVISORS": "sí"}
    )
    assert (s.mode, s.user_header, s.allow_anonymous_supervisors) == ("proxy", "X-Remote-User", True)
    assert (
        load_access(
            {"allow_anonymous_supervisors": True}, {"CUCU_ACCESS_ALLOW_ANONYMOUS_SUPERVISORS": "off"}
        ).allow_anonymous_supervisors
        is False
    )


@pytest.mark.parametrize(
    ("section", "fragment"),
    [
        ({"mode": "ldap"}, "oidc, proxy u off"),
        ({"default_role": "admin"}, "viewer o none"),
        ({"users": {"ana": "admin"}}, "«ana» = «admin»"),
        ({"role_map": {"g1": "none"}}, "role_map"),
        ({"modo": "off"}, "desconocidas"),
        ({"allow_anonymous_supervisors": "quizás"}, "on u off"),
    ],
)
def test_refusals(section, fragment):
    with pytest.raises(AccessSettingsError, match=fragment):
        load_access(section, {})


def test_claim_paths():
    claims = {"roles": ["a", "b"], "groups": "g", "realm_access": {"roles": ["supervisor"]}}
    assert claim_values(claims, "roles") == ["a", "b"] and claim_values(claims, "groups") == ["g"]
    assert claim_values(claims, "realm_access.roles") == ["supervisor"] and claim_values(claims, "nope.x") == []


def test_off_mode():
    off = load_access({}, {})
    assert decide(off, None, demo=True).role == Role.SUPERVISOR
    assert decide(off, None, demo=False).role == Role.VIEWER
    assert decide(load_access({"allow_anonymous_supervisors": True}, {}), None, demo=False).role == Role.SUPERVISOR


def test_oidc_roles_from_the_claim_and_the_map():
    s = load_access(
        {"mode": "oidc", "role_claim": "realm_access.roles", "role_map": {"cont-sup": "supervisor", "cont-ver": "viewer"}}, {}
    )
    sup = Identity("ana@x.bo", "Ana", {"realm_access": {"roles": ["otra", "cont-sup"]}})
    ver = Identity("beto@x.bo", "Beto", {"realm_access": {"roles": ["cont-ver"]}})
    nobody = Identity("carla@x.bo", None, {})
    assert decide(s, sup, demo=False).role == Role.SUPERVISOR
    assert decide(s, ver, demo=False).role == Role.VIEWER
    assert decide(s, nobody, demo=False).role == Role.VIEWER  # the default for unknown users
    assert decide(s, None, demo=False).role is None  # must sign in


def test_allow_list_overrides_the_claim_and_revokes_at_once():
    s = load_access({"mode": "oidc", "users": {"Ana@X.bo": "none", "carla@x.bo": "supervisor"}}, {})
    assert decide(s, Identity("ana@x.bo", None, {"roles": ["supervisor"]}), demo=False).role is None
    assert decide(s, Identity("carla@x.bo", None, {}), demo=False).role == Role.SUPERVISOR


def test_unknown_users_may_get_no_access():
    s = load_access({"mode": "proxy", "default_role": "none", "users": {"ana": "supervisor"}}, {})
    assert decide(s, Identity("ana"), demo=False).role == Role.SUPERVISOR
    denied = decide(s, Identity("intruso"), demo=False)
    assert denied.role is None and "no tiene un rol" in denied.reason
    assert decide(load_access({"mode": "proxy"}, {}), Identity("alguien"), demo=False).role == Role.VIEWER


def test_demo_says_everyone_is_a_supervisor():
    from cucu.access import DEMO_EVERYONE_SUPERVISES

    decision = decide(load_access({"mode": "off"}, {}), None, demo=True)
    assert decision.role is Role.SUPERVISOR and decision.reason == DEMO_EVERYONE_SUPERVISES
    assert "todos" in DEMO_EVERYONE_SUPERVISES and "supervisores" in DEMO_EVERYONE_SUPERVISES


def test_an_oidc_user_is_a_verified_email_or_the_subject_never_a_chosen_name():
    from cucu.access import oidc_user

    assert oidc_user({"sub": "s-1", "email": "ana@x.bo", "email_verified": True}) == "ana@x.bo"
    assert oidc_user({"sub": "s-1", "email": "ana@x.bo", "email_verified": False}) == "s-1"
    assert oidc_user({"sub": "s-1", "email": "ana@x.bo"}) == "s-1"  # not said verified
    assert oidc_user({"sub": "s-1", "email": "ana@x.bo", "email_verified": "true"}) == "s-1"  # only a real true
    assert oidc_user({"sub": "s-1", "preferred_username": "ana@x.bo"}) == "s-1"
    assert oidc_user({"preferred_username": "ana@x.bo"}) is None
    # So a self-chosen username in the e-mail namespace cannot take a listed supervisor's role.
    settings = load_access({"mode": "oidc", "users": {"ana@x.bo": "supervisor"}}, {})
    impostor = Identity(oidc_user({"sub": "s-9", "preferred_username": "ana@x.bo"}) or "", None, {})
    assert decide(settings, impostor, demo=False).role is not Role.SUPERVISOR


PROXY_SECRET = "f" * 64


def headers(**values: str | list[str]):
    """``header_values`` as Streamlit's ``st.context.headers.get_all`` gives it: case-insensitive, every copy."""
    table = {name.replace("_", "-").lower(): value if isinstance(value, list) else [value] for name, value in values.items()}
    return lambda name: table.get(name.lower(), [])


def test_the_proxy_user_header_counts_only_next_to_the_proxy_secret():
    from cucu.access import proxy_identity

    s = load_access({"mode": "proxy", "proxy_secret": PROXY_SECRET}, {})
    assert proxy_identity(s, headers(x_remote_user=" ana ", x_proxy_secret=PROXY_SECRET)) == Identity("ana")
    for nobody in (
        headers(x_remote_user="ana"),  # a process on the machine that reached 127.0.0.1:8501 itself
        headers(x_remote_user="ana", x_proxy_secret="f" * 63 + "0"),
        headers(x_remote_user="ana", x_proxy_secret="f" * 63),
        headers(x_remote_user="ana", x_proxy_secret=""),
        headers(x_remote_user="ana", x_proxy_secret=["adivinado", PROXY_SECRET]),  # one copy, nginx's
        headers(x_remote_user=["ana", "beto"], x_proxy_secret=PROXY_SECRET),  # which one? neither
        headers(x_remote_user=" ", x_proxy_secret=PROXY_SECRET),
        headers(x_proxy_secret=PROXY_SECRET),
    ):
        assert proxy_identity(s, nobody) is None
    # Another mode never reads the header; an unusable secret never lets it count.
    assert proxy_identity(load_access({"mode": "oidc"}, {}), headers(x_remote_user="ana", x_proxy_secret=PROXY_SECRET)) is None
    for weak in ("", "corto", "reemplace: " + "x" * 40):
        s = load_access({"mode": "proxy", "proxy_secret": weak}, {})
        assert proxy_identity(s, headers(x_remote_user="ana", x_proxy_secret=weak)) is None


def test_the_proxy_secret_is_compared_in_constant_time(monkeypatch):
    import hmac

    from cucu.access import proxy_identity

    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    s = load_access({"mode": "proxy", "proxy_secret": PROXY_SECRET}, {})
    assert proxy_identity(s, headers(x_remote_user="ana", x_proxy_secret=PROXY_SECRET)) == Identity("ana")
    assert compared == [(PROXY_SECRET.encode(), PROXY_SECRET.encode())]


def test_the_proxy_secret_header_and_value_are_settings_and_the_value_is_never_shown():
    s = load_access({"mode": "proxy", "proxy_secret_header": "X-Nginx", "proxy_secret": PROXY_SECRET}, {})
    assert (s.proxy_secret_header, s.proxy_secret) == ("X-Nginx", PROXY_SECRET)
    assert load_access({}, {}).proxy_secret_header == "X-Proxy-Secret"
    env = load_access(
        {"proxy_secret": "a" * 40}, {"CUCU_ACCESS_PROXY_SECRET": PROXY_SECRET, "CUCU_ACCESS_PROXY_SECRET_HEADER": "X-N"}
    )
    assert (env.proxy_secret, env.proxy_secret_header) == (PROXY_SECRET, "X-N")
    assert PROXY_SECRET not in repr(s) and PROXY_SECRET not in str(s)  # a logged settings object keeps it


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (None, "Falta [access].proxy_secret"),
        ("   ", "Falta [access].proxy_secret"),
        ("reemplace: python3 -c 'import secrets; print(secrets.token_hex(32))'", "texto del ejemplo"),
        ("secreto-corto", "tiene 13 bytes; se necesitan al menos 32"),
    ],
    ids=["missing", "blank", "placeholder", "short"],
)
def test_an_unusable_proxy_secret_is_explained_without_its_value(value, fragment):
    from cucu.access import proxy_secret_problem

    problem = proxy_secret_problem(value)
    assert problem and fragment in problem and "contingencia-secret.conf" in problem
    assert value is None or not value.strip() or value not in problem
    assert proxy_secret_problem(PROXY_SECRET) is None


# ---- revocation wins (issue 22, item 6) ---------------------------------------------------------

ELENA = {"sub": "u-3104", "email": "elena@empresa.bo", "name": "Elena", "roles": ["supervisor"]}  # no email_verified


def oidc_identity(claims: dict) -> Identity | None:
    """As ``ui.identity`` builds it from ``st.user``."""
    from cucu.access import oidc_user

    user = oidc_user(claims)
    return Identity(user, claims.get("name"), claims) if user else None


@pytest.mark.parametrize(
    ("claims", "listed"),
    [
        (ELENA, "elena@empresa.bo"),  # the provider never says email_verified
        (ELENA | {"email_verified": False}, "Elena@Empresa.bo"),
        (ELENA | {"email_verified": True}, "email:elena@empresa.bo"),
        (ELENA | {"preferred_username": "elena.r"}, "elena.r"),  # matched by the name she signs in with
        (ELENA | {"preferred_username": "elena@empresa.bo", "email": None}, "elena@empresa.bo"),
        (ELENA, "sub:u-3104"),
        (ELENA, "U-3104"),  # a bare revocation is compared with every identifier
    ],
    ids=["unverified", "said-unverified", "verified", "username", "username-like-email", "subject", "bare-subject"],
)
def test_none_matches_every_identifier_the_sign_in_carries_whatever_the_claim_says(claims, listed):
    s = load_access({"mode": "oidc", "users": {listed: "none"}, "role_map": {"supervisor": "supervisor"}}, {})
    decision = decide(s, oidc_identity(claims), demo=False)
    assert decision.role is None and "retirado" in decision.reason


def test_revocation_wins_over_a_grant_of_the_same_person_under_another_identifier():
    s = load_access({"mode": "oidc", "users": {"sub:u-3104": "none", "elena@empresa.bo": "supervisor"}}, {})
    assert decide(s, oidc_identity(ELENA | {"email_verified": True}), demo=False).role is None


def test_grants_still_need_a_verified_email_or_the_subject():
    s = load_access({"mode": "oidc", "users": {"elena@empresa.bo": "supervisor", "sub:u-9": "supervisor"}}, {})
    for not_verified in (ELENA, ELENA | {"email_verified": False}, ELENA | {"email_verified": "true"}):
        assert decide(s, oidc_identity(not_verified | {"roles": []}), demo=False).role is Role.VIEWER
    impostor = {"sub": "u-5", "preferred_username": "elena@empresa.bo"}
    assert decide(s, oidc_identity(impostor), demo=False).role is Role.VIEWER
    assert decide(s, oidc_identity({"sub": "u-9", "preferred_username": "x"}), demo=False).role is Role.SUPERVISOR
    assert decide(s, oidc_identity(ELENA | {"email_verified": True, "roles": []}), demo=False).role is Role.SUPERVISOR
    # A subject that looks like an e-mail grants only written as one: the bare key names the e-mail.
    subject_like_email = {"sub": "elena@empresa.bo", "email": "otra@empresa.bo", "email_verified": True}
    assert decide(s, oidc_identity(subject_like_email), demo=False).role is Role.VIEWER


def test_two_grants_for_one_sign_in_give_the_lesser_role():
    s = load_access({"mode": "oidc", "users": {"elena@empresa.bo": "supervisor", "sub:u-3104": "viewer"}}, {})
    assert decide(s, oidc_identity(ELENA | {"email_verified": True}), demo=False).role is Role.VIEWER


@pytest.mark.parametrize(
    ("mode", "users", "fragment"),
    [
        ("oidc", {"ana": "supervisor"}, "«ana»: puede ser el sujeto (sub) de una cuenta o un nombre de usuario"),
        ("oidc", {"ana": "viewer"}, "Escriba «sub:ana»"),
        ("oidc", {"sub:": "viewer"}, "«sub:»: falta"),
        ("oidc", {"email:ana": "viewer"}, "«email:ana»: «ana» no es una dirección de correo"),
        ("oidc", {"ana@x.bo": "none", "Ana@X.bo": "supervisor"}, "«ana@x.bo» y «Ana@X.bo» nombran lo mismo"),
        ("oidc", {"sub:ana@x.bo": "supervisor", "ana@x.bo": "supervisor"}, "nombran lo mismo («ana@x.bo»)"),
        ("oidc", {"sub:ana": "supervisor", "ana": "none"}, "nombran lo mismo («ana»)"),
        ("proxy", {"sub:ana": "supervisor"}, "en modo proxy la clave es el usuario que envía nginx"),
        ("proxy", {"ana": "none", "ANA": "supervisor"}, "nombran lo mismo («ana»)"),
    ],
)
def test_a_user_key_that_can_be_read_two_ways_is_refused_at_start(mode, users, fragment):
    with pytest.raises(AccessSettingsError, match=re.escape(fragment)):
        load_access({"mode": mode, "users": users}, {})


def test_unambiguous_user_lists_keep_working():
    oidc = {"ana.quispe@empresa.bo": "supervisor", "ex.empleado@empresa.bo": "none", "sub:00u1AbC": "viewer", "pablo": "none"}
    load_access({"mode": "oidc", "users": oidc}, {})
    load_access({"mode": "proxy", "users": {"ana": "supervisor", "beto": "viewer", "ana@x.bo": "none"}}, {})
    load_access({"mode": "off", "users": {"ana": "supervisor"}}, {})  # not read in mode off
    s = load_access({"mode": "oidc", "users": {"sub:00u1AbC": "supervisor"}}, {})
    assert decide(s, oidc_identity({"sub": "00u1abc"}), demo=False).role is Role.SUPERVISOR  # as before: any case


def test_the_configuration_page_explains_an_ambiguous_key(sim, app_secrets, streamlit_caches):
    from tests.support.apptest import APP, texts

    at = AppTest.from_file(str(APP), default_timeout=30)
    at.secrets["cucu"] = app_secrets
    at.secrets["access"] = {"mode": "oidc", "users": {"ana": "supervisor"}}
    at.secrets["auth"] = {"cookie_secret": "c" * 64}
    at.user = {"is_logged_in": True, "sub": "ana", "name": "Ana", "roles": ["supervisor"]}
    at.run()
    assert not at.exception
    assert "La configuración no es válida" in texts(at) and "«sub:ana»" in texts(at)
    assert not at.get("plotly_chart") and not at.dataframe  # nothing of the dashboard behind it


def test_a_revoked_oidc_user_gets_the_no_access_page(sim, app_secrets, streamlit_caches):
    from tests.support.apptest import run_app, texts

    access = {"mode": "oidc", "users": {"elena@empresa.bo": "none"}}
    at = run_app(app_secrets, access=access, user={"is_logged_in": True, **ELENA})
    assert "no tiene acceso a este tablero" in texts(at) and "retirado" in texts(at)
    assert not at.get("plotly_chart") and not at.dataframe and "Estado" not in [t.value for t in at.title]
