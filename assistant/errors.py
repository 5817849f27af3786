"""The one exception tree of the product.

::

    AssistantError
     ├── Refusal              a named condition a person is told about (``key`` = message id)
     │    ├── conversation.flow.Refused
     │    ├── services.care_records.CareError   SlotFull, TooSoon, TooLate, NotYours, …
     │    └── services.dispatch_records.DispatchError   OfferGone, AlreadyTaken, WrongStep, …
     ├── store.base.StoreError                  NotFound, ReadOnly
     ├── config.SettingsError                   (also a ValueError)
     └── services.imports.ImportError_          (also a ValueError)

The engine turns any :class:`Refusal` that escapes a step into a kind reply in
the person's language, in one place, and keeps the conversation where it was.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base of every error the product raises on purpose."""


class Refusal(AssistantError):
    """Something a person asked for cannot be done; ``key`` names the message to reply with."""

    key = "core.refused"

    def __init__(self, *args: object, **values: object) -> None:
        super().__init__(*(args or (self.key,)))
        self.values = values
