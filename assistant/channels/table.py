"""The table of channels: which chat networks exist, how each is served and reached.

The composition root of the channels. ``assistant up`` serves the channels
:func:`channels` returns for its settings, and every process sends through the
:func:`delivery` of the same table, so the runtime has no branch per network.
A network is configured by one setting (Telegram by ``[telegram] token``); a
network that is configured but has no channel in this version is a start-up
error naming that setting, never a silent fallback. The console is served when
asked for, or when no network is configured; console users are always
reachable (through the console inbox).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.channels.base import Channel
from assistant.config import Settings, SettingsError
from assistant.delivery import Delivery, RoutedDelivery
from assistant.store.base import Store

if TYPE_CHECKING:
    from assistant.app import App
    from assistant.conversation.engine import Engine

CONSOLE = "console"
LINGER_ENV = "ASSISTANT_CONSOLE_LINGER"


@dataclass(frozen=True)
class Serving:
    """What the bot process builds its channels from."""

    app: App
    engine: Engine
    redis_url: str
    jsonl: bool = False


@dataclass(frozen=True)
class ChannelSpec:
    """One row of the table: a network, the setting that turns it on, its two halves.

    ``serve`` builds the channel of the bot process; ``delivery`` the sender
    that any process (a worker) uses. ``None`` for both: the network is known
    to the settings but has no channel yet.
    """

    network: str
    setting: tuple[str, str] | None
    serve: Callable[[Serving], Channel] | None
    delivery: Callable[[Settings, str, Store], Delivery] | None

    def configured(self, settings: Settings) -> bool:
        """Whether the settings turn this network on."""
        return self.setting is not None and bool(settings.get(*self.setting))


def _serve_console(serving: Serving) -> Channel:
    from assistant.channels.common.media import MediaLibrary, media_dir
    from assistant.channels.console.channel import ConsoleChannel
    from assistant.channels.console.inbox import ConsoleInbox
    from assistant.channels.console.served import ServedConsole

    app = serving.app
    channel = ConsoleChannel(
        serving.engine.handle,
        jsonl=serving.jsonl,
        forward=app.delivery.deliver,
        media=MediaLibrary(app.store, media_dir(app.settings.data_dir)),
    )
    linger = float(os.environ.get(LINGER_ENV, "1.5"))
    return ServedConsole(channel, ConsoleInbox(app.store, serving.redis_url), linger)


def _console_delivery(settings: Settings, redis_url: str, store: Store) -> Delivery:
    from assistant.channels.console.inbox import ConsoleInbox

    return ConsoleInbox(store, redis_url)


def _serve_telegram(serving: Serving) -> Channel:
    from assistant.channels.telegram import TelegramChannel

    return TelegramChannel(serving.app, serving.engine, serving.redis_url)


def _telegram_delivery(settings: Settings, redis_url: str, store: Store) -> Delivery:
    from assistant.channels.telegram import TelegramDelivery

    return TelegramDelivery(settings, redis_url, store)


def _serve_matrix(serving: Serving) -> Channel:
    from assistant.channels.matrix import MatrixChannel

    return MatrixChannel(serving.app, serving.engine, serving.redis_url)


def _matrix_delivery(settings: Settings, redis_url: str, store: Store) -> Delivery:
    from assistant.channels.matrix import MatrixDelivery

    return MatrixDelivery(settings, redis_url, store)


CHANNELS: tuple[ChannelSpec, ...] = (
    ChannelSpec(CONSOLE, None, serve=_serve_console, delivery=_console_delivery),
    ChannelSpec(
        "telegram", ("telegram", "token"), serve=_serve_telegram, delivery=_telegram_delivery
    ),
    ChannelSpec("matrix", ("matrix", "homeserver"), serve=_serve_matrix, delivery=_matrix_delivery),
)


class NoChannel(SettingsError):
    """A network is configured, but this version has no channel for it."""


def configured(settings: Settings, table: tuple[ChannelSpec, ...] = CHANNELS) -> list[ChannelSpec]:
    """The networks the settings turn on.

    Raises:
        NoChannel: one of them has no channel; the message names its setting.
    """
    found = [spec for spec in table if spec.configured(settings)]
    for spec in found:
        if spec.serve is None or spec.delivery is None:
            assert spec.setting is not None
            section, key = spec.setting
            raise NoChannel(
                f"[{section}] {key} is set, but this version has no {spec.network} channel; "
                f"empty [{section}] {key} (ASSISTANT_{section.upper()}__{key.upper()}) to start"
            )
    return found


def serves_console(settings: Settings, table: tuple[ChannelSpec, ...] = CHANNELS) -> bool:
    """Whether ``assistant up`` talks in the terminal: when no chat network is configured."""
    return not configured(settings, table)


def channels(
    serving: Serving, console: bool | None = None, table: tuple[ChannelSpec, ...] = CHANNELS
) -> list[Channel]:
    """The channels the bot process serves: every configured network, and the console
    when asked for (``None``: when no network is configured)."""
    settings = serving.app.settings
    chosen = configured(settings, table)
    if console is None:
        console = not chosen
    if console:
        chosen = [spec for spec in table if spec.network == CONSOLE] + chosen
    served = []
    for spec in chosen:
        assert spec.serve is not None
        served.append(spec.serve(serving))
    return served


def delivery(
    settings: Settings, redis_url: str, store: Store, table: tuple[ChannelSpec, ...] = CHANNELS
) -> RoutedDelivery:
    """A delivery that reaches console users and every configured network, from any process."""
    routes: dict[str, Delivery] = {}
    for spec in table:
        if spec.network == CONSOLE or spec.configured(settings):
            if spec.delivery is None:
                configured(settings, table)  # raises, naming the setting
                continue
            routes[spec.network] = spec.delivery(settings, redis_url, store)
    return RoutedDelivery(routes)
