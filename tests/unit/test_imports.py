"""The rooms of ``cucu/`` keep their doors: each package imports only what its layer may (README, "Architecture").

Read from the source (every ``import``, in functions too), so a forbidden import fails here before it is run.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CUCU = ROOT / "cucu"

# Small modules every layer may use: words, La Paz time, Spanish renderings, periods, logging.
FOUNDATION = ("cucu.vocabulary", "cucu.lapaz", "cucu.formatting", "cucu.periods", "cucu.logs")
DOMAIN = (
    "cucu.connectivity",
    "cucu.events",
    "cucu.invoicing",
    "cucu.alerts",
    "cucu.collector",
    "cucu.organization",
    "cucu.reports.compliance",
)  # fmt: skip (cucu.reports.monthly sends the report's views: wiring, like runtime)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(CUCU.rglob("*.py"))}


@cache
def imports_of(module: str) -> frozenset[str]:
    """Every module ``module`` names in an import statement (``from a import b`` gives ``a`` and ``a.b``)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], *filter(None, [base])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return frozenset(found)


def own(names: frozenset[str]) -> set[str]:
    """The names that are modules of cucu (``from cucu.store import Store`` gives ``cucu.store``)."""
    return {name for name in names if name in MODULES}


@cache
def reached_from(module: str) -> frozenset[str]:
    """Every module ``module`` loads, directly or through cucu's own modules (outside packages by top name)."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        for name in imports_of(current):
            if name in MODULES and name not in seen:
                seen.add(name)
                todo.append(name)
            elif name not in MODULES:
                seen.add(name.split(".")[0])
        # importing a.b.c runs the packages a and a.b first
        parts = current.split(".")
        for n in range(1, len(parts)):
            parent = ".".join(parts[:n])
            if parent in MODULES and parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return frozenset(seen)


def under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def modules_under(*prefixes: str) -> list[str]:
    return [m for m in MODULES if under(m, prefixes)]


def test_the_rules_read_real_imports():
    """The reader itself: it sees a module's imports, relative and in functions, and what they load."""
    assert "cucu.api.client" in own(imports_of("cucu.connectivity.checks"))
    assert "httpx" in reached_from("cucu.connectivity.checks")
    assert "sqlalchemy" in reached_from("cucu.store")


@pytest.mark.parametrize("module", list(MODULES))
def test_nothing_in_cucu_imports_streamlit(module):
    assert "streamlit" not in reached_from(module), f"{module} carga Streamlit: la lógica va en cucu/, la pantalla en ui/"


@pytest.mark.parametrize("module", modules_under("cucu.api"))
def test_the_api_imports_nothing_of_the_rest(module):
    """The only code that talks to cucu depends on nothing but itself and the foundation."""
    outside = {m for m in own(imports_of(module)) if not under(m, ("cucu.api", *FOUNDATION))}
    assert not outside, f"{module} importa {sorted(outside)}"


@pytest.mark.parametrize("module", modules_under("cucu.store"))
def test_storage_imports_no_http(module):
    reached = reached_from(module)
    assert "httpx" not in reached and "cucu.api.client" not in reached, f"{module} carga HTTP"


@pytest.mark.parametrize("module", modules_under(*DOMAIN))
def test_domain_imports_no_views(module):
    """Rules decide; views show. A rule that needed a frame of a page would change when the page does."""
    views = {m for m in own(imports_of(module)) if under(m, ("cucu.views",))}
    assert not views, f"{module} importa {sorted(views)}"


def store_writes() -> set[str]:
    """The Store's methods that write: every one opens a transaction (``engine.begin()``)."""
    found = set()
    for module in modules_under("cucu.store"):
        for node in ast.walk(ast.parse(MODULES[module].read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and "engine.begin()" in ast.unparse(node):
                found.add(node.name)
    return found


SCREEN = [CUCU / "views", ROOT / "pages", ROOT / "ui", ROOT / "app.py"]


def test_the_screen_writes_nothing_to_the_store():
    """Views, pages and ui read the store; what changes data goes through the domain (actions, policy,
    alerts), which audits it. An import rule cannot say so (views import Store for its reads): the calls do."""
    writes = store_writes()
    assert {"put_days", "audit_begin", "save_invoices", "set_policy_paused"} <= writes  # the reader sees them
    calls = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.attr}"
        for root in SCREEN
        for path in ([root] if root.suffix else sorted(root.rglob("*.py")))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr in writes
    ]
    assert not calls, f"la pantalla escribe en la base: {calls}"
