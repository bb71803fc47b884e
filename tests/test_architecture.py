"""The package's shape (docs/architecture.md): layers import only downwards, no import cycle, small modules."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "plaintext_crm"
MAX_LINES = 500

# Each module's layer, lowest first: a module may import its own layer and the ones below, never above.
# The longest matching prefix decides (lint.registry and lint.rules sit below the analysis that runs them;
# lint.run, lint.report and lint.staged are the linter's front end, above it).
LAYERS: dict[str, int] = {
    "": 0,  # core: errors, findings, escape, json_data, money, clock, dates-free helpers, gitrepo, sandbox
    "records": 1,
    "sales": 2,
    "delivery": 2,
    "history": 3,
    "revenue": 3,  # joins sales and delivery (which never import each other)
    "lint.registry": 4,
    "lint.rules": 4,
    "analysis": 5,
    "lint": 6,
    "editing": 6,
    "notify": 6,  # digests from the analysis, their renderings and senders (docs/notify.md)
    "site": 7,
    "lsp": 7,
    "reports": 7,
    "options": 8,
    "commands": 8,
    "cli": 9,
    "__main__": 9,
}


def module_name(path: Path) -> str:
    """`plaintext_crm/lint/rules/deals.py` -> `lint.rules.deals` (a package: its own name)."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    """The layer of a module (name relative to the package)."""
    best = ""
    for prefix in LAYERS:
        if prefix and (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
            best = prefix
    return LAYERS[best]


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(tree: ast.AST, *, top_level_only: bool) -> Iterator[tuple[str, int]]:
    """(imported module relative to the package, line) of every plaintext_crm import outside TYPE_CHECKING
    blocks; with `top_level_only`, only those run when the module is imported (not inside functions)."""

    def visit(node: ast.AST) -> Iterator[tuple[str, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and is_type_checking(child):
                continue
            if top_level_only and isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            if isinstance(child, ast.ImportFrom) and child.module and child.level == 0 \
                    and child.module.split(".")[0] == "plaintext_crm":
                base = child.module.removeprefix("plaintext_crm").lstrip(".")
                for alias in child.names:
                    full = f"{base}.{alias.name}".lstrip(".")
                    yield (full if (PACKAGE / full.replace(".", "/")).with_suffix(".py").exists()
                           or (PACKAGE / full.replace(".", "/")).is_dir() else base), child.lineno
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] == "plaintext_crm":
                        yield alias.name.removeprefix("plaintext_crm").lstrip("."), child.lineno
            yield from visit(child)

    yield from visit(tree)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
TREES = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in MODULES.items()}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down_the_layers(module: str) -> None:
    upward = [f"{MODULES[module].name}:{line} imports {target} (layer {layer(target)} > {layer(module)})"
              for target, line in imports(TREES[module], top_level_only=False)
              if target and layer(target) > layer(module)]
    assert upward == []


def test_no_import_cycle() -> None:
    graph = {module: {target for target, _line in imports(tree, top_level_only=True) if target in MODULES}
             for module, tree in TREES.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def connect(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    assert cycles == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_are_small_and_say_what_they_own(module: str) -> None:
    path = MODULES[module]
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE.parent)} has {lines} lines (at most {MAX_LINES})"
    docstring = ast.get_docstring(TREES[module])
    assert docstring, f"{path.relative_to(PACKAGE.parent)} has no module docstring"


def test_the_layer_table_names_every_package() -> None:
    packages = {path.parent.name for path in PACKAGE.glob("*/__init__.py")} - {"site_templates"}
    assert packages <= {prefix.split(".")[0] for prefix in LAYERS}


def test_tests_import_no_other_test_module() -> None:
    """Shared test code lives in tests/*support*.py; a test never imports conftest or another test module."""
    tests = Path(__file__).resolve().parent
    bad = []
    for path in sorted(tests.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                last = name.rsplit(".", 1)[-1]
                if last == "conftest" or last.startswith("test_"):
                    bad.append(f"{path.relative_to(tests)}:{node.lineno} imports {name}")
    assert bad == []


def test_sales_and_delivery_do_not_import_each_other() -> None:
    """The CRM side and the delivery side meet at the hand-off and in the analysis, not in each other."""
    crossing = [f"{module} imports {target}" for module, tree in TREES.items()
                for target, _line in imports(tree, top_level_only=False)
                for side, other in (("sales", "delivery"), ("delivery", "sales"))
                if module.split(".")[0] == side and target.split(".")[0] == other]
    assert crossing == []
