"""Neutral :class:`Reply` → Matrix message content; pure functions.

Matrix has no bot buttons, so choices are a numbered list under the text: a
plain ``body`` for every client and an HTML ``formatted_body`` (an ordered
list) for those that show HTML. The person answers with the number, the
label's text, or a keycap reaction (1️⃣ …) on that message. Keyed edits are
``m.replace`` events carrying the new content. Text is plain in the
vocabulary, so it is escaped here. A picture is an ``m.image`` event of its
own (:func:`image`) sent before the text, which is its caption.
"""

from __future__ import annotations

import html
from typing import Any

from assistant.channels.matrix.translate import KEYCAPS
from assistant.conversation.vocabulary import Reply
from assistant.i18n import Translator

HTML = "org.matrix.custom.html"
MAX_TEXT = 30_000  # Matrix events may be 64 KiB; keep a wide margin for HTML and encryption


def labels(reply: Reply) -> list[str]:
    """Every choice label, row by row, in the order they are numbered."""
    return [choice.label for row in reply.choices for choice in row]


def values(reply: Reply) -> list[str]:
    """Every choice value, in the same order as :func:`labels`."""
    return [choice.value for row in reply.choices for choice in row]


def content(reply: Reply, tr: Translator) -> dict[str, Any]:
    """The ``m.room.message`` content of a reply: text, numbered choices, hints."""
    text = reply.text[:MAX_TEXT]
    shown = labels(reply)
    plain = [text] if text.strip() else []
    rich = [_paragraphs(text)] if text.strip() else []
    if shown:
        plain.append("\n".join(f"{n}. {label}" for n, label in enumerate(shown, start=1)))
        items = "".join(f"<li>{html.escape(label, quote=False)}</li>" for label in shown)
        rich.append(f"<ol>{items}</ol>")
        hint = tr.t("matrix.choose_hint", first=KEYCAPS[0], last=len(shown))
        if len(shown) > len(KEYCAPS):
            hint = tr.t("matrix.choose_hint_long", last=len(shown))
        plain.append(hint)
        rich.append(f"<p><em>{html.escape(hint, quote=False)}</em></p>")
    if reply.request_location:
        hint = tr.t("matrix.location_hint")
        plain.append(hint)
        rich.append(f"<p><em>{html.escape(hint, quote=False)}</em></p>")
    if reply.request_contact:
        hint = tr.t("matrix.contact_hint")
        plain.append(hint)
        rich.append(f"<p><em>{html.escape(hint, quote=False)}</em></p>")
    if not plain:
        plain, rich = ["…"], ["…"]
    return {
        "msgtype": "m.text",
        "body": "\n\n".join(plain),
        "format": HTML,
        "formatted_body": "".join(rich),
    }


def image(
    name: str, mimetype: str, size: int, where: str | dict[str, Any], encrypted: bool
) -> dict[str, Any]:
    """The ``m.image`` content of an uploaded picture: ``file`` (the encrypted file and its
    key) in an encrypted room, ``url`` in a plain one."""
    info: dict[str, Any] = {"mimetype": mimetype, **({"size": size} if size else {})}
    content: dict[str, Any] = {"msgtype": "m.image", "body": name, "filename": name, "info": info}
    if encrypted:
        content["file"] = where
    else:
        content["url"] = where
    return content


def edit(original_event: str, new: dict[str, Any]) -> dict[str, Any]:
    """An ``m.replace`` edit of ``original_event`` to the content ``new``."""
    return {
        "msgtype": new["msgtype"],
        "body": "* " + str(new["body"]),
        "format": HTML,
        "formatted_body": "* " + str(new["formatted_body"]),
        "m.new_content": new,
        "m.relates_to": {"rel_type": "m.replace", "event_id": original_event},
    }


def _paragraphs(text: str) -> str:
    return "<p>" + html.escape(text, quote=False).replace("\n", "<br>") + "</p>"
