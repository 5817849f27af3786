"""The one exception tree of the product.

::

    AssistantError
     ├── Refusal              a named condition a person is told about (``key`` = message id)
     │    ├── conversation.flow.Refused
     │    ├── services.care.records.CareError           SlotFull, TooSoon, TooLate, NotYours, …
     │    ├── services.dispatch.records.DispatchError   OfferGone, AlreadyTaken, WrongStep, …
     │    └── services.people.volunteers.VolunteerError NotAVolunteer
     ├── store.base.StoreError                  NotFound, ReadOnly
     ├── TryLater                               a job cannot be done yet; ``seconds`` says when
     ├── config.SettingsError                   (also a ValueError)
     └── services.people.imports.ImportError_   (also a ValueError)

The engine turns any :class:`Refusal` that escapes a step or an action into a
kind reply in the person's language, in one place
(``Engine._refused``), which first logs the refusal's class name at INFO —
never its values, which may be personal — and keeps the conversation where it
was. Handlers catch a refusal only to do something else than that reply (go
back to the choice of times when a slot filled up, end the flow, say words of
their own); they never catch it just to say its message.
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


class TryLater(AssistantError):
    """A job that cannot be done now, and how long to wait (``seconds``).

    The jobs core retries it after that wait instead of its back-off (an
    attempt is still counted): a message another worker claimed goes out when
    the claim lapses, not one doubled back-off later.
    """

    def __init__(self, seconds: float) -> None:
        super().__init__(f"try again in {seconds:.0f} s")
        self.seconds = seconds
