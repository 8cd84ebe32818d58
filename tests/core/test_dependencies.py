"""Arrows point inward only (DESIGN.md): ``feedback → governance`` and ``partners →
governance``, never back, and never between ``feedback`` and ``partners``.

Every import statement in the packages' Python files is read from the source (module level or
inside a function, ``TYPE_CHECKING`` blocks included), and so is every ``import_module`` /
``import_string`` / ``__import__`` call given a literal module name. The core learns about the
wings only through the registries they fill in ``AppConfig.ready`` (and the settings that list
them as installed apps, which are strings, not imports)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("governance", "feedback", "partners")
# package → the packages it must never import.
FORBIDDEN = {
    "governance": {"feedback", "partners"},
    "feedback": {"partners"},
    "partners": {"feedback"},
}
DYNAMIC_IMPORTS = {"import_module", "import_string", "__import__"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, node: ast.ImportFrom, path: Path) -> str:
    """The absolute name a (possibly relative) ``from … import`` names."""
    if not node.level:
        return node.module or ""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import the file makes."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(_module_name(path), node, path)
            found.append((node.lineno, base))
            # ``from governance import partners_thing`` names a submodule too.
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if (
                name in DYNAMIC_IMPORTS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.append((node.lineno, node.args[0].value))
    return found


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def violations(package: str) -> list[str]:
    wrong = []
    for path in python_files(package):
        for line, module in imported_modules(path):
            top = module.split(".")[0]
            if top in FORBIDDEN[package]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return wrong


@pytest.mark.parametrize("package", PACKAGES)
def test_the_package_never_imports_what_it_must_not(package):
    assert python_files(package), f"no Python files under {package}/"
    assert violations(package) == []


def test_the_wings_do_import_the_core():
    """The check reads real imports: each wing's own imports of governance are found."""
    for package in ("feedback", "partners"):
        tops = {
            module.split(".")[0]
            for path in python_files(package)
            for _line, module in imported_modules(path)
        }
        assert "governance" in tops, package


# The check itself ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "module"),
    [
        ("import partners.models\n", "partners.models"),
        ("from partners import services\n", "partners"),
        ("def f():\n    from partners.models import Booking\n", "partners.models"),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import feedback\n", "feedback"),
        (
            "from importlib import import_module\nimport_module('partners.tasks')\n",
            "partners.tasks",
        ),
        (
            "from django.utils.module_loading import import_string\n"
            "import_string('feedback.services.rate')\n",
            "feedback.services.rate",
        ),
    ],
)
def test_every_kind_of_import_is_seen(tmp_path, monkeypatch, source, module):
    package = tmp_path / "governance" / "things"
    package.mkdir(parents=True)
    path = package / "example.py"
    path.write_text(source, encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert module in {name for _line, name in imported_modules(path)}
    assert violations("governance")


def test_a_relative_import_is_resolved_to_its_package(tmp_path, monkeypatch):
    package = tmp_path / "partners" / "sub"
    package.mkdir(parents=True)
    path = package / "mod.py"
    path.write_text("from .. import services\nfrom ..models import Booking\n", encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert {name for _line, name in imported_modules(path)} >= {
        "partners",
        "partners.services",
        "partners.models",
    }
