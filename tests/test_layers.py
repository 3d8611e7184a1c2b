"""Imports point down the layers only (shared/DESIGN.md, docs/architecture.md):

pages (web, admin, webkit) → protocol (oidc, deps) → services (identity, policy, accounts)
→ infrastructure (keys, notify, audit, outbound, store; config, errors, language) → pure rules (vouching).

``keys/`` and ``vouching/`` import nothing from ``broker``; ``web`` and ``admin`` never import each other.
Start-up wiring (``broker.app``, ``broker.cli``, ``broker.demo``, ...) may import anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PAGES, PROTOCOL, SERVICES, INFRASTRUCTURE, RULES = 5, 4, 3, 2, 1
LAYER = {
    "broker.web": PAGES,
    "broker.admin": PAGES,
    "broker.webkit": PAGES,
    "broker.oidc": PROTOCOL,
    "broker.deps": PROTOCOL,
    "broker.identity": SERVICES,
    "broker.policy": SERVICES,
    "broker.accounts": SERVICES,
    "keys": INFRASTRUCTURE,
    "broker.notify": INFRASTRUCTURE,
    "broker.audit": INFRASTRUCTURE,
    "broker.outbound": INFRASTRUCTURE,
    "broker.store": INFRASTRUCTURE,
    "broker.config": INFRASTRUCTURE,
    "broker.errors": INFRASTRUCTURE,
    "broker.language": INFRASTRUCTURE,
    "broker.logs": INFRASTRUCTURE,
    "broker.workers": INFRASTRUCTURE,
    "broker.observability_metrics": INFRASTRUCTURE,
    "vouching": RULES,
}
# Start-up wiring: builds the application from every layer.
WIRING = ("broker", "broker.app", "broker.cli", "broker.keys_cli", "broker.demo", "broker.observability", "broker.hardening")
# Pages that must not import one another.
SIBLINGS = {"broker.web": "broker.admin", "broker.admin": "broker.web"}


def owner(module: str) -> str | None:
    """The entry of ``LAYER`` or ``WIRING`` a module belongs to (the longest prefix)."""
    names = [*LAYER, *WIRING]
    found = [n for n in names if module == n or module.startswith(n + ".")]
    return max(found, key=len) if found else None


def modules() -> list[tuple[str, Path]]:
    found = []
    for top in ("broker", "keys", "vouching"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found.append((name, path))
    return found


def imports(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports, at any depth (imports inside functions count too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return [(line, name) for line, name in found if name.split(".")[0] in ("broker", "keys", "vouching")]


def violations(name: str, path: Path) -> list[str]:
    here = owner(name)
    if here is None or here in WIRING:
        return []
    found = []
    for line, target in imports(path):
        there = owner(target)
        where = f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name}:{line} imports {target}"
        if name.split(".")[0] in ("keys", "vouching") and target.startswith("broker"):
            found.append(f"{where}: {name.split('.')[0]}/ imports nothing from broker")
        elif there is None or there in WIRING:
            found.append(f"{where}: only start-up wiring imports the wiring")
        elif LAYER[there] > LAYER[here]:
            found.append(f"{where}: a {here} module imports from a higher layer")
        elif SIBLINGS.get(here) == there:
            found.append(f"{where}: {here} and {there} do not import each other")
    return found


def test_every_module_has_a_layer() -> None:
    assert [name for name, _ in modules() if owner(name) is None] == []


@pytest.mark.parametrize(("name", "path"), modules(), ids=[name for name, _ in modules()])
def test_imports_point_down(name: str, path: Path) -> None:
    assert violations(name, path) == []


def test_the_checker_catches_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "service.py"
    module.write_text("from broker.web.i18n import _\nfrom broker.store.models import Account\n")
    assert violations("broker.policy.service", module) == [
        "service.py:1 imports broker.web.i18n: a broker.policy module imports from a higher layer"
    ]
    module.write_text("from broker.web.pages import render\nfrom broker.config import Settings\n")
    assert violations("broker.admin.pages", module) == [
        "service.py:1 imports broker.web.pages: broker.admin and broker.web do not import each other"
    ]
    assert violations("keys.service", module) == [
        "service.py:1 imports broker.web.pages: keys/ imports nothing from broker",
        "service.py:2 imports broker.config: keys/ imports nothing from broker",
    ]
