"""The package's layers: dependencies point one way, down the pipeline (an `ast` pass).

    errors, atomic, yaml_lines, console         what every layer may use
    iiif/, images/                              libraries: nothing of stories or sites
    config, story.references, story.frontmatter the values read from an author's text
    model                                       the frozen values that pass between stages
    story/ → resolve/ → site/                   the stages, in pipeline order
    incremental, fingerprint, build             the pipeline driver
    serve/, bundle/, tools/, publish/           what runs the pipeline or sits beside it
    cli, __main__, __init__                     the entry points

A module may import its own layer and the layers above it in this list, never one below;
there is no cycle between modules; only cli, serve/ and bundle/ import build; and only cli.py
imports inside functions (to keep `storiiies --help` fast), each such import commented.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "storiiies"

LAYERS: list[tuple[str, ...]] = [
    ("errors", "atomic", "yaml_lines", "console"),
    ("iiif", "images"),
    ("config", "story.references", "story.frontmatter"),
    ("model",),
    ("story",),
    ("resolve",),
    ("site",),
    ("incremental", "fingerprint", "build"),
    ("serve", "bundle", "tools", "publish"),
    ("cli", "__main__", "__init__"),
]
LIBRARIES = ("iiif", "images")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, ast.Module]:
    return {
        module_name(path): ast.parse(path.read_text(encoding="utf-8"), str(path))
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def imported(node: ast.Import | ast.ImportFrom, known: set[str]) -> Iterator[str]:
    """The storiiies modules an import statement names (without the `storiiies.` prefix)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif node.level:
        raise AssertionError(f"relative import at line {node.lineno}: write it in full")
    elif node.module:
        names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    else:
        names = []
    for name in names:
        if name.startswith("storiiies."):
            short = name.removeprefix("storiiies.")
            if short in known:
                yield short


def layer_of(module: str) -> int:
    best = None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            inside = module == prefix or module.startswith(prefix + ".")
            if inside and (best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    assert best is not None, f"{module} is in no layer: add it to LAYERS in {__file__}"
    return best[0]


def imports_of(tree: ast.Module, known: set[str]) -> Iterator[tuple[str, int, bool]]:
    """(module imported, line, inside a function) for every storiiies import of a module."""
    inner: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for child in ast.walk(node):
                if isinstance(child, ast.Import | ast.ImportFrom):
                    inner.add(id(child))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for name in imported(node, known):
                yield name, node.lineno, id(node) in inner


def graph() -> dict[str, dict[str, tuple[int, bool]]]:
    trees = modules()
    known = set(trees)
    edges: dict[str, dict[str, tuple[int, bool]]] = {}
    for module, tree in trees.items():
        edges[module] = {}
        for target, line, inside in imports_of(tree, known):
            if target != module and not module.startswith(target + "."):
                edges[module].setdefault(target, (line, inside))
    return edges


def test_every_module_is_in_a_layer() -> None:
    for module in graph():
        layer_of(module)


def test_imports_point_down_the_pipeline() -> None:
    upward = [
        f"storiiies/{module.replace('.', '/')}.py:{line}: {module} imports {target}"
        for module, targets in graph().items()
        for target, (line, _) in targets.items()
        if layer_of(target) > layer_of(module)
    ]
    assert not upward, "imports that point up the pipeline:\n" + "\n".join(sorted(upward))


def test_the_libraries_know_nothing_of_stories_or_sites() -> None:
    foreign = [
        f"{module} imports {target}"
        for module, targets in graph().items()
        if module.split(".")[0] in LIBRARIES
        for target in targets
        if layer_of(target) > 1
    ]
    assert not foreign, "\n".join(sorted(foreign))


def test_only_the_commands_run_the_build() -> None:
    allowed = ("cli", "serve", "bundle", "__init__")
    callers = [
        module
        for module, targets in graph().items()
        if "build" in targets and module.split(".")[0] not in allowed
    ]
    assert not callers, f"only {', '.join(allowed)} may import storiiies.build: {callers}"


def test_only_the_command_line_publishes() -> None:
    # publish/ reads a built site; no stage or other command may depend on it (or on fsspec,
    # its optional extra).
    users = [
        module
        for module, targets in graph().items()
        if any(target.split(".")[0] == "publish" for target in targets)
        and module.split(".")[0] not in ("cli", "publish")
    ]
    assert not users, f"only cli may import storiiies.publish: {users}"


def test_there_is_no_import_cycle() -> None:
    edges = {module: set(targets) for module, targets in graph().items()}
    cycles = [component for component in strongly_connected(edges) if len(component) > 1]
    assert not cycles, "import cycles:\n" + "\n".join(" ⇄ ".join(sorted(c)) for c in cycles)


def test_only_the_cli_imports_inside_functions() -> None:
    hidden = [
        f"storiiies/{module.replace('.', '/')}.py:{line}: imports {target} inside a function"
        for module, targets in graph().items()
        if module != "cli"
        for target, (line, inside) in targets.items()
        if inside
    ]
    assert not hidden, "\n".join(sorted(hidden))


def test_the_layer_checks_catch_what_they_look_for() -> None:
    # The detector proves it can detect: an upward import, a cycle and a hidden import.
    assert layer_of("iiif.fetch") < layer_of("story.parse") < layer_of("site.render")
    assert strongly_connected({"a": {"b"}, "b": {"a"}, "c": set()}) == [{"a", "b"}, {"c"}]
    tree = ast.parse("def f():\n    from storiiies.build import build_site\n")
    assert list(imports_of(tree, {"build"})) == [("build", 2, True)]


def strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components, in the order they complete."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            components.append(component)

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return components
