"""Access settings and the role decision in each mode."""

from __future__ import annotations

import pytest

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
