"""Regions: a branch's own, else its city's department, else none (issue 26)."""

from __future__ import annotations

import pytest

from cucu.inventory import DEMO_INVENTORY_PATH, InventoryError, inventory_to_toml, load_inventory, parse_inventory
from cucu.organization.regions import DEPARTMENTS, NO_REGION, department_of_city, ordered_regions, region_label, region_name
from cucu.simulator.seed import synthetic_inventory

B1, P1 = "660e8400-e29b-41d4-a716-446655440003", "660e8400-e29b-41d4-a716-446655440004"


def branch(extra: str) -> str:
    return f'[[branches]]\nid = "{B1}"\nname = "Centro"\n{extra}\n[[branches.pos]]\nid = "{P1}"\nname = "Caja 1"\n'


@pytest.mark.parametrize(
    ("city", "department"),
    [
        ("La Paz", "La Paz"),
        ("El Alto", "La Paz"),
        ("Santa Cruz de la Sierra", "Santa Cruz"),
        ("  montero ", "Santa Cruz"),
        ("Sucre", "Chuquisaca"),
        ("Potosi", "Potosí"),  # without its accent
        ("YACUIBA", "Tarija"),
        ("Trinidad", "Beni"),
        ("Cobija", "Pando"),
        ("Quillacollo", "Cochabamba"),
        ("Huanuni", "Oruro"),
        ("Springfield", None),
        (None, None),
        ("", None),
    ],
)
def test_a_known_town_gives_its_department(city, department):
    assert department_of_city(city) == department


def test_every_department_is_its_own_town():
    assert [department_of_city(d) for d in DEPARTMENTS] == list(DEPARTMENTS)


def test_a_branch_without_region_takes_its_citys_department():
    (b,) = parse_inventory(branch('city = "El Alto"')).branches
    assert b.region == "La Paz"


def test_the_inventorys_region_wins_and_a_department_is_written_its_own_way():
    assert parse_inventory(branch('city = "El Alto"\nregion = "Occidente"')).branches[0].region == "Occidente"
    assert parse_inventory(branch('city = "El Alto"\nregion = "santa  cruz"')).branches[0].region == "Santa Cruz"
    assert parse_inventory(branch('region = "potosi"')).branches[0].region == "Potosí"


def test_a_branch_with_neither_is_in_no_region_never_guessed():
    assert parse_inventory(branch('city = "Springfield"')).branches[0].region is None
    assert parse_inventory(branch("")).branches[0].region is None
    assert region_label(None) == NO_REGION


@pytest.mark.parametrize("bad", ['region = ""', "region = 3", f'region = "{"x" * 121}"'])
def test_a_bad_region_is_refused_in_spanish_naming_the_branch(bad):
    with pytest.raises(InventoryError, match=r"«Centro».*«region»"):
        parse_inventory(branch(bad))


def test_a_written_inventory_keeps_its_regions():
    inv = parse_inventory(
        branch('city = "El Alto"\nregion = "Occidente"')
        + branch('city = "Sucre"').replace(B1, B1[:-1] + "9").replace(P1, P1[:-1] + "8")
    )
    assert [b.region for b in inv.branches] == ["Occidente", "Chuquisaca"]
    assert parse_inventory(inventory_to_toml(inv)) == inv


def test_the_demo_and_a_generated_chain_have_regions():
    demo = load_inventory(DEMO_INVENTORY_PATH)
    assert {b.region for b in demo.branches} == {"La Paz", "Santa Cruz", "Cochabamba", "Chuquisaca"}
    chain = synthetic_inventory(1000, 1)
    assert {b.region for b in chain.branches} == set(DEPARTMENTS)  # the nine, as a real chain's


def test_regions_are_ordered_departments_first_then_others_then_none():
    assert ordered_regions(["Oriente", None, "Tarija", "La Paz", "andes", "Tarija"]) == [
        "La Paz", "Tarija", "andes", "Oriente", None,
    ]  # fmt: skip
    assert region_name(" Occidente ") == "Occidente"


def test_branches_by_region_groups_the_chain_in_order_with_no_region_last():
    from cucu.organization.regions import branches_by_region

    inv = parse_inventory(
        branch('city = "Springfield"')
        + branch('city = "Sucre"').replace(B1, B1[:-1] + "9").replace(P1, P1[:-1] + "8")
        + branch('city = "El Alto"').replace(B1, B1[:-1] + "7").replace(P1, P1[:-1] + "6")
    )
    groups = branches_by_region(inv)
    assert groups == {"La Paz": [B1[:-1] + "7"], "Chuquisaca": [B1[:-1] + "9"], NO_REGION: [B1]}
    assert branches_by_region(inv) is groups  # worked out once per inventory
