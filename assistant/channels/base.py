"""The one protocol every channel implements, and what a channel can show.

A channel translates one chat network: updates in become neutral ``Incoming``
events, the engine's ``Reply`` objects go out rendered the network's way. The
bot process serves each configured channel through the same few calls
(:class:`Channel`); worker processes never serve a channel, they send through
its :class:`~assistant.delivery.Delivery`. Both are built from one table
(:mod:`assistant.channels.table`), so the runtime has no branch per network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Capabilities:
    """What a network can show; a channel that cannot show something fails loudly.

    Attributes:
        buttons: real bot buttons (else choices are numbered lines to type back).
        edits: a sent message can be changed later (``Reply.edit`` by ``Reply.key``).
        media: photos and voice notes, through the media port.
    """

    buttons: bool = False
    edits: bool = False
    media: bool = False


class Channel(Protocol):
    """One chat network served by the bot process."""

    name: str
    """The network's name, the first part of its addresses (``telegram``, ``console``)."""
    capabilities: Capabilities

    async def start(self) -> None:
        """Connect and start taking updates; return once they flow."""

    async def stop(self) -> None:
        """Stop taking updates, finish or hand over what is in hand, within a bounded time."""

    async def ended(self) -> None:
        """Return when the channel has nothing more to serve (the console: end of input);
        a network channel never ends by itself."""
