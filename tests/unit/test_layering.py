"""Layers point one way: the domain depends on nothing of ours, the database layer not on the web,
the web not on the loaders. Read from each module's own import statements (ast, nothing run),
so a forbidden import hidden in a function body counts too."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {".venv", ".git", "var", "node_modules", "__pycache__", "build", "dist"}
OUR_PACKAGES = ("onemap", "geodata", "etl", "layers", "exports", "pages", "callbacks", "bench",
                "tests", "app")

# (which modules, what they must not import, why)
RULES = [
    (
        "onemap.domain",
        ("dash", "dash_leaflet", "flask", "flask_login", "flask_limiter", "sqlalchemy",
         "geoalchemy2", "geopandas", "psycopg", "psycopg2", "alembic", *OUR_PACKAGES),
        "the domain's rules are plain Python that every other layer may share",
    ),
    (
        "geodata",
        ("layers", "pages", "callbacks", "onemap.web", "app", "dash", "dash_leaflet", "flask",
         "flask_login", "flask_limiter"),
        "the database layer serves the web app, the importers and the CLI alike",
    ),
    *(
        (web, ("etl",), "the web app reads the database; loading files into it is the CLI's job")
        for web in ("onemap.web", "pages", "callbacks", "app")
    ),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool = False):
    """(line, dotted name) of everything a module imports; `from a import b` gives a.b, since
    b may be a module, and relative imports are resolved against the module's package."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}" if alias.name != "*" else base


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    found = []
    for scope, forbidden, why in RULES:
        if not within(module, scope):
            continue
        for line, name in imported_modules(source, module, is_package):
            if within(name, scope):
                continue
            for prefix in forbidden:
                if within(name, prefix):
                    found.append(f"{module}:{line} imports {name} ({why})")
                    break
    return found


def our_modules():
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = sorted(d for d in subfolders if d not in SKIPPED_DIRS)
        for file in sorted(files):
            if file.endswith(".py"):
                yield Path(folder, file)


def test_layers_point_one_way():
    found = []
    for path in our_modules():
        found += violations(path.read_text(encoding="utf-8"), module_name(path),
                            path.name == "__init__.py")
    assert not found, "imports against the layering:\n" + "\n".join(found)


def test_every_rule_covers_modules_that_exist():
    """A rule whose package was renamed away would pass forever."""
    names = {module_name(p) for p in our_modules()}
    for scope, _, _ in RULES:
        assert any(within(n, scope) for n in names), scope


@pytest.mark.parametrize(("module", "source"), [
    ("onemap.domain.rules", "import sqlalchemy as sa"),
    ("onemap.domain.rules", "def f():\n    from geodata import db"),
    ("onemap.domain.rules", "from onemap import settings"),
    ("onemap.domain.rules", "from ..web import auth"),
    ("geodata.queries.wall", "from dash import html"),
    ("geodata.queries.wall", "from ...layers.events import EVENT_LAYER"),
    ("callbacks.wall", "from etl.importers import pipeline"),
    ("app", "import etl.demo"),
])
def test_a_forbidden_import_is_caught(module, source):
    assert violations(source, module)


@pytest.mark.parametrize(("module", "source"), [
    ("onemap.domain.intake", "from .coordinates import to_wgs84"),
    ("onemap.domain.intake", "from onemap.domain import vocab\nimport numpy"),
    ("geodata.queries.events", "from onemap.domain import lifecycle\nimport sqlalchemy"),
    ("callbacks.wall", "from geodata.queries import wall\nfrom onemap.domain import roles"),
    ("etl.importers.load", "from geodata import db"),
])
def test_an_allowed_import_passes(module, source):
    assert not violations(source, module)
