"""The library's layout: packages by concern, small modules, imports only downward.

The floors are listed in ``resnet_essence/__init__.py``; a module may import from its own floor
or a lower one, never from a higher one, so nothing at the bottom (a net, a data set) depends on
what reads it (a table, a claim, the report).
"""

import ast
from pathlib import Path

import pytest

import resnet_essence

LIBRARY = Path(resnet_essence.__file__).parent
# floor of each top-level module or package, bottom to top (resnet_essence/__init__.py says why)
FLOORS = {
    "stats": 1, "files": 1, "papers": 1, "scripting": 1,
    "data": 2, "nets": 2, "collapse": 2,
    "config": 3, "tables": 3,
    "train": 4,
    "measure": 5,
    "claims": 6,
    "report": 7,
}  # fmt: skip
PACKAGES = ["data", "nets", "collapse", "tables", "train", "measure", "claims", "report"]
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 120


def _modules() -> list[Path]:
    return sorted(p for p in LIBRARY.rglob("*.py") if p.name != "__init__.py")


def _room(path: Path) -> str:
    """The top-level module or package a file belongs to."""
    return path.relative_to(LIBRARY).parts[0].removesuffix(".py")


def _imported_rooms(path: Path) -> set[str]:
    """The rooms of the library a module imports from, lazy imports inside functions included."""
    package = path.relative_to(LIBRARY).parent.parts
    rooms = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = package[: len(package) - (node.level - 1)]
                target = [*base, *(node.module.split(".") if node.module else [])]
                names = [] if node.module else [a.name for a in node.names]
            elif node.module and node.module.split(".")[0] == "resnet_essence":
                target = node.module.split(".")[1:]
                names = [a.name for a in node.names]
            else:
                continue
            rooms |= {target[0]} if target else set(names)
        elif isinstance(node, ast.Import):
            rooms |= {
                a.name.split(".")[1]
                for a in node.names
                if a.name.startswith("resnet_essence.") and a.name.count(".") >= 1
            }
    return rooms


def test_every_module_belongs_to_a_floor():
    rooms = {_room(p) for p in _modules()}
    assert rooms <= set(FLOORS), f"modules outside the floors: {sorted(rooms - set(FLOORS))}"


def test_the_old_top_level_modules_are_gone_and_every_package_says_what_lives_there():
    top = {p.stem for p in LIBRARY.glob("*.py")} - {"__init__"}
    assert top == {"config", "files", "scripting", "stats", "papers"}
    for package in PACKAGES:
        doc = ast.get_docstring(ast.parse((LIBRARY / package / "__init__.py").read_text()))
        assert doc, f"{package}/__init__.py has no docstring"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(LIBRARY)))
def test_a_module_imports_only_from_its_floor_or_lower(path):
    here = FLOORS[_room(path)]
    above = {r for r in _imported_rooms(path) if r in FLOORS and FLOORS[r] > here}
    assert not above, f"{path.relative_to(LIBRARY)} (floor {here}) imports from {above}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(LIBRARY)))
def test_modules_and_functions_stay_small(path):
    text = path.read_text()
    lines = len(text.splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.relative_to(LIBRARY)}: {lines} lines"
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, (
        f"{path.relative_to(LIBRARY)}: functions above {MAX_FUNCTION_LINES} lines: {long}"
    )


def test_the_import_check_sees_relative_absolute_and_lazy_imports(tmp_path):
    # the check itself must catch what it is there to catch
    fake = LIBRARY / "nets" / "_layout_probe.py"
    assert not fake.exists()
    source = "from ..report import markdown\n\ndef f():\n    from resnet_essence.claims import x\n"
    fake.write_text(source)
    try:
        assert _imported_rooms(fake) == {"report", "claims"}
    finally:
        fake.unlink()
