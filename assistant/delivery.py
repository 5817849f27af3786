"""The delivery port: send a message to any address from any process.

The engine answers the chat it was spoken to through that channel; everything
else (an offer to a volunteer, a reminder, a note to a coordinator) goes
through a :class:`Delivery`, which routes by the address's network.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol, runtime_checkable

from assistant.conversation.vocabulary import CannotRender, Outbound, network_of

log = logging.getLogger(__name__)


class Delivery(Protocol):
    """Sends messages to addresses."""

    def deliver(self, message: Outbound) -> None:
        """Send one message (or queue it for sending)."""


@runtime_checkable
class ForgetsAddresses(Protocol):
    """A sender that keeps something per address (choice tokens, a direct room) and can drop it."""

    def forget_address(self, address: str) -> None:
        """Drop what this network keeps about ``address`` (``/forget``, ``/unlink``)."""


class MemoryDelivery:
    """Keeps every message, for tests."""

    def __init__(self) -> None:
        self.sent: list[Outbound] = []
        self._lock = threading.Lock()

    def deliver(self, message: Outbound) -> None:
        """Remember the message."""
        with self._lock:
            self.sent.append(message)

    def take(self) -> list[Outbound]:
        """Remove and return what was sent."""
        with self._lock:
            sent, self.sent = self.sent, []
            return sent


class RoutedDelivery:
    """Hands each message to the sender of its address's network."""

    def __init__(self, routes: dict[str, Delivery] | None = None) -> None:
        self.routes: dict[str, Delivery] = dict(routes or {})

    def add(self, network: str, sender: Delivery) -> None:
        """Route a network's messages to a sender."""
        self.routes[network] = sender

    def deliver(self, message: Outbound) -> None:
        """Send through the right network, or fail loudly."""
        network = network_of(message.to)
        sender = self.routes.get(network)
        if sender is None:
            raise CannotRender(f"no channel for {network} messages")
        sender.deliver(message)

    def forget_address(self, address: str) -> None:
        """Let the address's network drop what it keeps about it, if it keeps anything."""
        sender = self.routes.get(network_of(address))
        if isinstance(sender, ForgetsAddresses):
            sender.forget_address(address)
