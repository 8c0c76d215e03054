"""A person's scope (issue 26, part 2): how [access] writes it, how the decision carries it, what it covers."""

from __future__ import annotations

import pytest

from cucu.access import AccessSettingsError, Identity, decide, load_access, scope_problem
from cucu.api.models import Branch, Inventory, PointOfSale
from cucu.inventory import branch_labels
from cucu.organization.scope import WHOLE_COMPANY, Scope, within
from cucu.vocabulary import Role


def branch(id_: str, region: str | None) -> Branch:
    return Branch(id_, f"Sucursal {id_}", (PointOfSale(f"{id_}-1", "Caja 1", id_),), region=region)


CHAIN = Inventory((branch("lp1", "La Paz"), branch("lp2", "La Paz"), branch("sc1", "Santa Cruz"), branch("x", None)))


def test_a_scope_covers_its_regions_and_its_branches_and_nothing_else():
    scz = Scope(frozenset({"Santa Cruz"}))
    assert [b.id for b in within(CHAIN, scz).branches] == ["sc1"]
    mixed = Scope(frozenset({"Santa Cruz"}), frozenset({"lp2"}))
    assert [b.id for b in within(CHAIN, mixed).branches] == ["lp2", "sc1"]
    assert [b.id for b in within(CHAIN, Scope(frozenset({"Sin región"}))).branches] == ["x"]
    assert within(CHAIN, WHOLE_COMPANY) is CHAIN
    assert within(CHAIN, scz) is within(CHAIN, Scope(frozenset({"Santa Cruz"})))  # kept with the inventory
    # a stored row's branch: the company's rows (no branch) and unknown branches are nobody's but the company's
    assert scz.covers_branch_id(CHAIN, "sc1") and not scz.covers_branch_id(CHAIN, "lp1")
    assert not scz.covers_branch_id(CHAIN, "") and not scz.covers_branch_id(CHAIN, "gone")
    assert WHOLE_COMPANY.covers_branch_id(CHAIN, "") and WHOLE_COMPANY.covers_branch_id(CHAIN, "gone")


def test_a_scoped_view_names_each_branch_as_the_whole_company_does():
    """Two "Centro" in the chain: the company tells them apart by city, and so does the person who sees only one
    (one name wherever a branch appears; links cut from the company's values carry it)."""
    centro = [
        Branch(f"c{n}", "Centro", (PointOfSale(f"c{n}-1", "Caja 1", f"c{n}"),), city=city, region=city)
        for n, city in enumerate(("La Paz", "Santa Cruz"))
    ]
    chain = Inventory((*centro, branch("lp1", "La Paz")))
    assert branch_labels(chain) == {"c0": "Centro (La Paz)", "c1": "Centro (Santa Cruz)", "lp1": "Sucursal lp1"}
    scz = within(chain, Scope(frozenset({"Santa Cruz"})))
    assert branch_labels(scz) == {"c1": "Centro (Santa Cruz)"}
    assert branch_labels(Inventory(scz.branches)) == {"c1": "Centro"}  # what the cut alone would have said


def test_the_header_names_the_scope():
    assert WHOLE_COMPANY.label(CHAIN) == "Toda la empresa"
    assert Scope(frozenset({"Santa Cruz"})).label(CHAIN) == "Región Santa Cruz"
    assert Scope(frozenset({"Santa Cruz", "La Paz"})).label(CHAIN) == "Regiones La Paz y Santa Cruz"
    assert Scope(frozenset({"La Paz"}), frozenset({"lp1", "sc1"})).label(CHAIN) == "Región La Paz · Sucursal Sucursal sc1"
    assert Scope(branches=frozenset({"lp1", "sc1"})).label(CHAIN) == "2 sucursales"


def test_a_scope_of_one_branch_the_inventory_no_longer_has_counts_it_in_the_singular():
    assert Scope(branches=frozenset({"gone"})).label(CHAIN) == "1 sucursal"
    assert Scope(frozenset({"La Paz"}), frozenset({"gone"})).label(CHAIN) == "Región La Paz · 1 sucursal"


def test_users_and_groups_carry_a_scope_written_as_a_table():
    s = load_access(
        {
            "mode": "proxy",
            "users": {
                "ana": {"role": "supervisor", "regions": ["santa cruz"]},  # written the dashboard's way
                "beto": {"role": "viewer", "branches": ["lp1"]},
                "carla": "supervisor",
            },
        },
        {},
    )
    ana, beto, carla = (decide(s, Identity(u), demo=False) for u in ("ana", "beto", "carla"))
    assert (ana.role, ana.scope) == (Role.SUPERVISOR, Scope(frozenset({"Santa Cruz"})))
    assert (beto.role, beto.scope) == (Role.VIEWER, Scope(branches=frozenset({"lp1"})))
    assert (carla.role, carla.scope) == (Role.SUPERVISOR, WHOLE_COMPANY)
    assert scope_problem(s, CHAIN) is None


def test_groups_add_up_and_an_unscoped_group_gives_the_whole_company():
    s = load_access(
        {
            "mode": "oidc",
            "role_claim": "groups",
            "role_map": {
                "sup-lpz": {"role": "supervisor", "regions": ["La Paz"]},
                "sup-scz": {"role": "supervisor", "regions": ["Santa Cruz"]},
                "sup-todo": "supervisor",
                "ver-scz": {"role": "viewer", "regions": ["Santa Cruz"]},
            },
        },
        {},
    )

    def scope_of(*groups):
        return decide(s, Identity("sub1", None, {"sub": "sub1", "groups": list(groups)}), demo=False)

    assert scope_of("sup-lpz", "sup-scz").scope == Scope(frozenset({"La Paz", "Santa Cruz"}))
    assert scope_of("sup-lpz", "sup-todo").scope == WHOLE_COMPANY
    # the role is the highest a group gives, and the scope is that role's groups' only
    assert (scope_of("ver-scz", "sup-lpz").role, scope_of("ver-scz", "sup-lpz").scope) == (
        Role.SUPERVISOR,
        Scope(frozenset({"La Paz"})),
    )
    assert scope_of("ver-scz").scope == Scope(frozenset({"Santa Cruz"}))


def test_of_two_lines_for_one_person_the_narrower_scope_holds():
    s = load_access(
        {"mode": "oidc", "users": {"ana@x.bo": "supervisor", "sub:a1": {"role": "supervisor", "regions": ["La Paz"]}}}, {}
    )
    ana = Identity("ana@x.bo", "Ana", {"sub": "a1", "email": "ana@x.bo", "email_verified": True})
    assert decide(s, ana, demo=False).scope == Scope(frozenset({"La Paz"}))


@pytest.mark.parametrize(
    ("users", "fragment"),
    [
        ({"ana": {"role": "supervisor", "regiones": ["La Paz"]}}, "claves desconocidas: regiones"),
        ({"ana": {"regions": ["La Paz"]}}, "el rol debe ser"),
        ({"ana": {"role": "supervisor", "regions": "La Paz"}}, "lista de textos"),
        ({"ana": {"role": "supervisor", "regions": []}}, "vacías"),  # never read as the whole company
        ({"ana": {"role": "none", "regions": ["La Paz"]}}, "no tiene alcance"),
    ],
)
def test_a_badly_written_scope_is_refused_in_spanish(users, fragment):
    with pytest.raises(AccessSettingsError, match=fragment):
        load_access({"mode": "proxy", "users": users}, {})


def test_a_scope_naming_what_the_inventory_lacks_stops_the_dashboard():
    s = load_access({"mode": "proxy", "users": {"ana": {"role": "supervisor", "regions": ["Santa Crus"]}}}, {})
    assert scope_problem(s, CHAIN) == (
        "[access.users] «ana»: el inventario no tiene la región «Santa Crus». Corrija el nombre (o el id de la sucursal)."
    )
    groups = load_access({"mode": "oidc", "role_map": {"g": {"role": "viewer", "branches": ["nope"]}}}, {})
    assert "[access.role_map] «g»" in (scope_problem(groups, CHAIN) or "") and "«nope»" in (scope_problem(groups, CHAIN) or "")


def test_a_display_token_is_kept_by_its_digest_with_a_scope(capsys):
    from cucu.access import display_decision, main, new_token, token_digest

    token, digest = new_token()
    s = load_access({"mode": "oidc", "display_tokens": [digest, {"sha256": digest.upper(), "regions": ["Santa Cruz"]}]}, {})
    shown = display_decision(s, token)
    assert shown is not None and (shown.role, shown.scope, shown.signed_in) == (Role.DISPLAY, WHOLE_COMPANY, True)
    assert token not in repr(s) and digest not in repr(s)
    assert display_decision(s, token + "x") is None and display_decision(s, None) is None
    for bad in (["abc"], [{"sha256": digest, "role": "supervisor"}], "x", [{"sha256": digest, "regions": []}]):
        with pytest.raises(AccessSettingsError):
            load_access({"mode": "oidc", "display_tokens": bad}, {})
    unknown = load_access({"mode": "oidc", "display_tokens": [{"sha256": digest, "regions": ["Marte"]}]}, {})
    assert "«Marte»" in (scope_problem(unknown, CHAIN) or "")
    import sys
    from unittest import mock

    with mock.patch.object(sys, "argv", ["cucu.access", "--nuevo-token-pantalla"]):
        main()
    out = capsys.readouterr().out.splitlines()
    printed_token, printed_digest = out[0].rsplit(" ", 1)[1], out[1].split('"')[1]
    assert token_digest(printed_token) == printed_digest and len(printed_token) >= 40
