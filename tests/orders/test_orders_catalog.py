"""Every orders message id used in the code is in both catalogs, with the same placeholders."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from assistant.i18n import LANGUAGES, catalog, placeholders

ROOT = Path(__file__).resolve().parents[2]
FILES = [
    *(ROOT / "assistant/services/orders").glob("*.py"),
    *(ROOT / "handlers").glob("orders*.py"),
]
ORDERS_ID = re.compile(r"^(orders|keywords)\.[a-z0-9_]+$")
JOB_NAMES = {
    "orders.lapse",
    "orders.go_live",
    "orders.sale_end",
    "orders.offer",
    "orders.list_edit",
    "orders.dispatch_run",
    "orders.follow_up",
    "orders.digest",
    "orders.stop",
    "orders.skip",
    "orders.close",
}


def ids_and_prefixes() -> tuple[set[str], set[str]]:
    whole: set[str] = set()
    prefixes: set[str] = set()
    for path in FILES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if ORDERS_ID.match(node.value) and not node.value.endswith("_"):
                    whole.add(node.value)
            elif isinstance(node, ast.JoinedStr) and node.values:
                head = node.values[0]
                if isinstance(head, ast.Constant) and str(head.value).startswith("orders."):
                    prefixes.add(str(head.value))
    return whole - JOB_NAMES | {"orders.stop", "orders.skip", "orders.close"}, prefixes


def test_every_orders_id_in_the_code_is_in_both_catalogs() -> None:
    whole, prefixes = ids_and_prefixes()
    assert len(whole) > 150
    for language in LANGUAGES:
        messages = catalog(language)
        assert not sorted(key for key in whole if not messages.get(key)), language
        for prefix in prefixes:
            assert any(key.startswith(prefix) for key in messages), prefix


def test_orders_messages_have_the_same_placeholders_and_english_has_no_chinese() -> None:
    chinese, english = catalog("zh_CN"), catalog("en")
    cjk = re.compile(r"[\u2e80-\u9fff\u3000-\u303f\uff01-\uff60]")
    for key in (k for k in chinese if k.startswith("orders.")):
        assert placeholders(chinese[key]) == placeholders(english[key]), key
        assert not cjk.search(re.sub(r"\{[a-z_]+\}", "", english[key])), key
