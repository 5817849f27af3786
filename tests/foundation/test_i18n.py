"""Every message exists in both catalogs, with the same placeholders."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from assistant.i18n import LANGUAGES, catalog, placeholders

ROOT = Path(__file__).resolve().parents[2]
MESSAGE_ID = re.compile(
    r"^(core|onboard|menu|help|role|profile|family|care|dispatch|volunteer|tg|keywords|topic|reports|notice|knock|activity|linking)"
    r"\.[a-z0-9_]+$"
)


TRANSLATING_CALLS = {"t", "Unexpected"}
KEY_NAMES = {"key", "menu_key", "help_key", "message_key"}
KEYWORD_NAMES = {"menu_key", "help_key", "message_key", "keywords_key", "answer_key", "label_key"}
# `key=` also names timers and edits


def _literal_ids(node: ast.AST) -> tuple[list[str], list[str]]:
    """Message ids (whole, and f-string prefixes) an expression may produce."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value], []
    if isinstance(node, ast.JoinedStr) and node.values:
        head = node.values[0]
        if isinstance(head, ast.Constant) and isinstance(head.value, str):
            return [], [head.value]
    if isinstance(node, ast.IfExp):
        whole_a, prefix_a = _literal_ids(node.body)
        whole_b, prefix_b = _literal_ids(node.orelse)
        return whole_a + whole_b, prefix_a + prefix_b
    return [], []


def message_ids_in_code() -> tuple[dict[str, str], dict[str, str]]:
    """Ids passed to ``t()``/``Unexpected()`` or assigned to ``key``-like names, and f-string prefixes."""
    whole: dict[str, str] = {}
    prefixes: dict[str, str] = {}
    for folder in ("assistant", "handlers", "workers"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            candidates: list[ast.AST] = []
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    func = node.func
                    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                    if name in TRANSLATING_CALLS and node.args:
                        candidates.append(node.args[0])
                    candidates += [kw.value for kw in node.keywords if kw.arg in KEYWORD_NAMES]
                elif isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name) and target.id in KEY_NAMES:
                            candidates.append(node.value)
            for candidate in candidates:
                found, heads = _literal_ids(candidate)
                for key in found:
                    if MESSAGE_ID.match(key):
                        whole[key] = path.name
                for head in heads:
                    prefixes[head] = path.name
    return whole, prefixes


def test_both_catalogs_hold_the_same_ids() -> None:
    chinese, english = catalog("zh_CN"), catalog("en")
    assert set(chinese) - set(english) == set(), "missing in English"
    assert set(english) - set(chinese) == set(), "missing in Chinese"


def test_every_id_used_in_the_code_is_translated() -> None:
    used, prefixes = message_ids_in_code()
    assert len(used) > 50, "too few message ids found: the extraction is broken"
    for language in LANGUAGES:
        messages = catalog(language)
        missing = {key: where for key, where in used.items() if not messages.get(key)}
        assert not missing, f"{language} lacks {missing}"
        for prefix, where in prefixes.items():
            assert any(key.startswith(prefix) for key in messages), f"{where}: {prefix}*"


def test_placeholders_match_between_languages() -> None:
    chinese, english = catalog("zh_CN"), catalog("en")
    for key, text in chinese.items():
        assert placeholders(text) == placeholders(english[key]), key


def test_no_message_is_empty() -> None:
    for language in LANGUAGES:
        empty = [key for key, text in catalog(language).items() if not text.strip()]
        assert not empty, f"{language}: {empty}"


def test_chinese_messages_are_written_in_chinese() -> None:
    han = re.compile(r"[\u4e00-\u9fff]")
    ascii_only_ok = {"onboard.ask_language"}
    for key, text in catalog("zh_CN").items():
        visible = re.sub(r"\{[a-z_]+\}|/[a-z]+", "", text)
        if key in ascii_only_ok or not visible.strip():
            continue
        assert han.search(visible) or not re.search(r"[A-Za-z]{4,}", visible), key


CJK = re.compile(r"[\u2e80-\u9fff\u3000-\u303f\uf900-\ufaff\uff01-\uff60]")
ENGLISH_MAY_SHOW_CHINESE = {
    # The language question is asked in both languages, before anyone has chosen.
    "onboard.ask_language": {"请选择语言"},
}
"""English messages that name something in Chinese on purpose, and the words allowed."""


def test_every_message_id_has_both_languages() -> None:
    chinese, english = catalog("zh_CN"), catalog("en")
    assert set(chinese) == set(english)
    for key in chinese:
        assert chinese[key].strip() and english[key].strip(), key


def test_english_messages_carry_no_chinese_words() -> None:
    """Names come in through placeholders; the words around them are English."""
    for key, text in catalog("en").items():
        visible = re.sub(r"\{[a-z_]+\}", "", text)
        for allowed in ENGLISH_MAY_SHOW_CHINESE.get(key, ()):
            visible = visible.replace(allowed, "")
        assert not CJK.search(visible), f"en {key}: {text!r}"
