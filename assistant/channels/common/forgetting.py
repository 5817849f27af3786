"""Dropping what a network keeps in Redis about one address (``/forget``, ``/unlink``).

The channel core keeps, per network namespace (``tg:``, ``mx:``), choice tokens
whose record names their recipient (``<ns>btn:<token>``, grouped in
``<ns>btnset:<set>``) and keyed messages under ``<ns>msg:<address>|<key>``. Both
expire within 30 days; a person who asks to be forgotten, or an address unlinked
from its person, should not wait that long. A network adds its own keys (Matrix:
the direct room and the latest message).

Synchronous (a worker's job calls it). The token scan reads every token of the
network once: slow for a busy bot, but it runs once per forgotten address, in a
worker, never on a conversation's path.
"""

from __future__ import annotations

import json
import logging
import re

import redis

log = logging.getLogger(__name__)

SCAN_COUNT = 1000
_GLOB = re.compile(r"([*?\[\]\\])")


def glob_escape(text: str) -> str:
    """``text`` matched literally in a Redis ``SCAN MATCH`` pattern."""
    return _GLOB.sub(r"\\\1", text)


def forget_address(client: redis.Redis, namespace: str, address: str) -> int:
    """Delete ``address``'s keyed messages and choice tokens under ``namespace``; return how many keys."""
    doomed: list[str] = [
        _text(key)
        for key in client.scan_iter(
            match=f"{namespace}msg:{glob_escape(address)}|*", count=SCAN_COUNT
        )
    ]
    doomed += _tokens_of(client, namespace, address)
    for start in range(0, len(doomed), 500):
        client.delete(*doomed[start : start + 500])
    log.debug("dropped %d %s keys of a forgotten address", len(doomed), namespace)
    return len(doomed)


def _tokens_of(client: redis.Redis, namespace: str, address: str) -> list[str]:
    """The choice tokens issued to ``address``, and the sets they belong to."""
    found: list[str] = []
    batch: list[str] = []

    def check() -> None:
        values = client.mget(batch) if batch else []
        for key, raw in zip(batch, values, strict=True):
            if raw is None:
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("to") == address:
                found.append(key)
                if record.get("set"):
                    found.append(f"{namespace}btnset:{record['set']}")
        batch.clear()

    for key in client.scan_iter(match=f"{namespace}btn:*", count=SCAN_COUNT):
        batch.append(_text(key))
        if len(batch) >= SCAN_COUNT:
            check()
    check()
    return sorted(set(found))


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
