"""Inventory loading: the shape other tools write, and every refusal names its entry."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cucu.inventory import DEMO_INVENTORY_PATH, InventoryError, is_uuid, load_inventory, parse_inventory

B1 = "660e8400-e29b-41d4-a716-446655440003"
P1 = "660e8400-e29b-41d4-a716-446655440004"
P2 = "660e8400-e29b-41d4-a716-446655440005"
B2 = "660e8400-e29b-41d4-a716-446655440006"

GOOD = f'''
[[branches]]
id = "{B1}"
name = "Casa Matriz"
city = "La Paz"

[[branches.pos]]
id = "{P1}"
name = "Caja 1"

[[branches.pos]]
id = "{P2}"
name = "Caja 2"
'''


def test_the_documented_shape_loads():
    inv = parse_inventory(GOOD)
    (branch,) = inv.branches
    assert (branch.id, branch.name, branch.city) == (B1, "Casa Matriz", "La Paz")
    assert [p.name for p in branch.pos] == ["Caja 1", "Caja 2"]
    assert all(p.branch_id == B1 for p in inv.all_pos)
    assert inv.pos(P2).name == "Caja 2" and inv.branch(B1) is branch


def test_city_is_optional():
    inv = parse_inventory(GOOD.replace('city = "La Paz"\n', ""))
    assert inv.branches[0].city is None


def test_demo_inventory_is_valid_and_big_enough():
    inv = load_inventory(DEMO_INVENTORY_PATH)
    assert len(inv.branches) >= 4
    assert all(3 <= len(b.pos) <= 6 for b in inv.branches)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.replace(P2, "not-a-uuid"), ["«Caja 2»", "«Casa Matriz»", "UUID", "not-a-uuid"]),
        (GOOD.replace(P2, P1), ["«Caja 2»", "repite el id", "«Caja 1»"]),
        (GOOD.replace(P2, B1), ["«Caja 2»", "repite el id", "sucursal 1"]),
        (GOOD.replace(B1, "660e8400e29b41d4a716446655440003"), ["sucursal 1", "UUID"]),
        (GOOD.replace('name = "Caja 2"', 'name = "  "'), ["punto de venta 2", "«name»"]),
        (GOOD.replace('name = "Casa Matriz"', ""), ["sucursal 1 ", "«name»"]),
        (GOOD.replace(f'id = "{P1}"\n', ""), ["«Caja 1»", "no tiene «id»"]),
        (GOOD.replace('city = "La Paz"', 'ciudad = "La Paz"'), ["«Casa Matriz»", "«ciudad»"]),
        (GOOD.replace('name = "Caja 1"', 'name = "Caja 1"\ncodigo = 3'), ["«Caja 1»", "«codigo»"]),
        ("titulo = 'x'\n" + GOOD, ["«titulo»", "nivel superior"]),
        (f'[[branches]]\nid = "{B1}"\nname = "Vacía"\n', ["«Vacía»", "no tiene puntos de venta"]),
        ("", ["ninguna sucursal"]),
        ("[[branches]\n", ["no es TOML válido"]),
        (
            GOOD + f'\n[[branches]]\nid = "{B2}"\nname = "Dos"\ncity = 4\n[[branches.pos]]\nid = "{P2[:-1]}9"\nname = "X"\n',
            ["«Dos»", "city"],
        ),
    ],
    ids=[
        "bad-pos-uuid",
        "dup-pos",
        "pos-reuses-branch-id",
        "uuid-without-hyphens",
        "blank-pos-name",
        "missing-branch-name",
        "missing-id",
        "unknown-branch-key",
        "unknown-pos-key",
        "unknown-top-key",
        "branch-without-pos",
        "empty",
        "bad-toml",
        "city-not-text",
    ],
)
def test_refusals_name_the_entry(text, expected):
    with pytest.raises(InventoryError) as info:
        parse_inventory(text, source="inv.toml")
    message = str(info.value)
    assert "inv.toml" in message
    for fragment in expected:
        assert fragment in message, (fragment, message)


def test_missing_file(tmp_path):
    with pytest.raises(InventoryError, match="No se encontró"):
        load_inventory(tmp_path / "nope.toml")


def test_is_uuid_wants_canonical_form():
    assert is_uuid(P1) and is_uuid(P1.upper())
    assert not is_uuid("{" + P1 + "}") and not is_uuid(P1.replace("-", "")) and not is_uuid(None)


def test_written_inventory_reads_back_the_same():
    import dataclasses

    from cucu.inventory import inventory_to_toml

    inv = load_inventory(DEMO_INVENTORY_PATH)
    branch = dataclasses.replace(parse_inventory(GOOD).branches[0], name='Casa "Matriz" \\ Centro', city=None)
    odd = dataclasses.replace(inv, branches=(branch,))
    assert parse_inventory(inventory_to_toml(inv)) == inv
    assert parse_inventory(inventory_to_toml(odd)) == odd


def test_branch_labels_are_unique_for_url_filters():
    from cucu.inventory import branch_labels

    text = (
        _branch("11111111-1111-4111-8111-111111111111", "Centro", "La Paz", "21111111-1111-4111-8111-111111111111")
        + _branch("12111111-1111-4111-8111-111111111111", "Centro", "El Alto", "22111111-1111-4111-8111-111111111111")
        + _branch("13111111-1111-4111-8111-111111111111", "Centro", "El Alto", "23111111-1111-4111-8111-111111111111")
        + _branch("14111111-1111-4111-8111-111111111111", "Norte", None, "24111111-1111-4111-8111-111111111111")
    )
    labels = branch_labels(parse_inventory(text))
    assert list(labels.values()) == ["Centro (La Paz)", "Centro (12111111)", "Centro (13111111)", "Norte"]


def test_branch_labels_stay_unique_when_name_city_and_id_start_repeat():
    """Seen (issue 22): two "Centro" in El Alto whose ids share 8 characters had one label, so a filter
    link selected the wrong one; and a branch may be named like another's label."""
    from cucu.inventory import branch_labels

    text = (
        _branch("13111111-1111-4111-8111-111111111111", "Centro", "El Alto", "23111111-1111-4111-8111-111111111111")
        + _branch("13111111-2222-4111-8111-111111111111", "Centro", "El Alto", "24111111-1111-4111-8111-111111111111")
        + _branch("13111111-2222-4111-8111-222222222222", "Centro", "El Alto", "25111111-1111-4111-8111-111111111111")
        + _branch("14111111-1111-4111-8111-111111111111", "Centro", "La Paz", "26111111-1111-4111-8111-111111111111")
        + _branch("15111111-1111-4111-8111-111111111111", "Centro (La Paz)", None, "27111111-1111-4111-8111-111111111111")
        + _branch("16111111-1111-4111-8111-111111111111", "Norte", None, "28111111-1111-4111-8111-111111111111")
        + _branch("17111111-1111-4111-8111-111111111111", "Norte", "Sucre", "29111111-1111-4111-8111-111111111111")
    )
    labels = branch_labels(parse_inventory(text))
    assert list(labels.values()) == [
        "Centro (13111111-1111)",
        "Centro (13111111-2222-4111-8111-111111111111)",
        "Centro (13111111-2222-4111-8111-222222222222)",
        "Centro (14111111)",  # "Centro (La Paz)" is another branch's name: both move on
        "Centro (La Paz) (15111111)",
        "Norte (16111111)",  # no city: straight to the id
        "Norte (Sucre)",
    ]


_PIECES = [("11111111", "1111111A"), ("2222", "222a"), ("4333", "433a"), ("8444", "844a"), ("555555555555", "55555555555a")]
_label_ids = st.tuples(*(st.sampled_from(p) for p in _PIECES)).map("-".join)
_label_names = st.sampled_from(["Centro", "Centro (La Paz)", "Centro (11111111)", "Centro (11111111-2222)", "Norte"])
_label_cities = st.sampled_from([None, "La Paz", "El Alto", "11111111"])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(_label_ids, _label_names, _label_cities), max_size=12, unique_by=lambda row: row[0].lower()),
    st.randoms(use_true_random=False),
)
def test_branch_labels_are_unique_and_read_back_to_their_branch(rows, random):
    """Any inventory: every branch has a label, no two share one, and Streamlit's option lookup (what a
    filter in the URL goes through) gives back the branch; the order of the branches changes no label."""
    from streamlit.elements.lib.options_selector_utils import create_mappings

    from cucu.inventory import branch_labels, inventory_from_dict

    branches = [
        {"id": b_id, "name": name, **({"city": city} if city else {}), "pos": [{"id": str(uuid.UUID(int=i)), "name": "Caja"}]}
        for i, (b_id, name, city) in enumerate(rows)
    ]
    if not branches:
        return
    inventory = inventory_from_dict({"branches": branches})
    labels = branch_labels(inventory)
    ids = [b.id for b in inventory.branches]
    assert list(labels) == ids and len(set(labels.values())) == len(ids)
    _, index_of = create_mappings(ids, labels.__getitem__)
    assert all(ids[index_of[labels[branch_id]]] == branch_id for branch_id in ids)
    random.shuffle(branches)
    assert branch_labels(inventory_from_dict({"branches": branches})) == labels


def test_lookups_by_id():
    inventory = load_inventory(DEMO_INVENTORY_PATH)
    pos = inventory.all_pos[-1]
    assert inventory.pos(pos.id) is pos and inventory.branch(pos.branch_id).pos[-1] is pos
    with pytest.raises(KeyError):
        inventory.pos("00000000-0000-4000-8000-000000000000")


def _branch(branch_id: str, name: str, city: str | None, pos_id: str) -> str:
    city_line = f'city = "{city}"\n' if city else ""
    return f'[[branches]]\nid = "{branch_id}"\nname = "{name}"\n{city_line}[[branches.pos]]\nid = "{pos_id}"\nname = "Caja 1"\n\n'


def test_a_utf8_file_with_a_bom_is_a_valid_inventory(tmp_path):
    path = tmp_path / "inventario.toml"
    path.write_bytes(GOOD.encode("utf-8-sig"))  # as Notepad or Excel save "UTF-8"
    assert [b.name for b in load_inventory(path).branches] == ["Casa Matriz"]


@pytest.mark.parametrize(
    ("old", "new"), [('name = "Caja 1"', f'name = "{"C" * 121}"'), ('city = "La Paz"', f'city = "{"L" * 121}"')]
)
def test_names_longer_than_the_cap_are_refused_by_entry(old, new):
    with pytest.raises(InventoryError) as info:
        parse_inventory(GOOD.replace(old, new), source="inv.toml")
    message = str(info.value)
    assert "121 caracteres; el máximo es 120" in message and len(message) < 300
    assert ("el punto de venta 1" in message) if "Caja" in old else ("«Casa Matriz»" in message)


@pytest.mark.parametrize(
    "text",
    [
        "x = " + "[" * 5000 + "]" * 5000,  # tomllib: RecursionError
        "x = " + "{a = " * 3000 + "1" + "}" * 3000,
        "x = " + "9" * 5000,  # tomllib: a ValueError of its own, in English
        "[[branches]]\nid = " + "9" * 5000,
    ],
    ids=["deep-array", "deep-table", "huge-int", "huge-id"],
)
def test_hostile_toml_is_an_inventory_error_in_spanish(text):
    with pytest.raises(InventoryError, match="inventario"):
        parse_inventory(text)


def test_a_file_beyond_the_cap_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr("cucu.inventory.MAX_INVENTORY_BYTES", 1000)
    path = tmp_path / "grande.toml"
    path.write_text("# " + "x" * 2000 + "\n" + DEMO_INVENTORY_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(InventoryError, match="pasa de"):
        load_inventory(path)


def test_labels_are_worked_out_once_per_inventory():
    """A chain's 1 000 branches were labelled again at every page run; now once per inventory (it never changes)."""
    from cucu.inventory import branch_labels
    from cucu.simulator.seed import synthetic_inventory
    from cucu.views.historial import lanes, pos_labels

    chain, other = synthetic_inventory(30, 2), synthetic_inventory(3, 2)
    assert branch_labels(chain) is branch_labels(chain) and pos_labels(chain) is pos_labels(chain)
    assert set(branch_labels(other)) == {b.id for b in other.branches}  # each inventory its own
    assert [lane.pos_id for lane in lanes(chain)] == [p.id for p in chain.all_pos]
    some = {chain.all_pos[5].id, chain.all_pos[1].id}
    assert [lane.pos_id for lane in lanes(chain, some)] == [chain.all_pos[1].id, chain.all_pos[5].id]  # inventory order
    assert pos_labels(chain)[chain.all_pos[0].id] == f"{chain.branches[0].name} · {chain.all_pos[0].name}"
