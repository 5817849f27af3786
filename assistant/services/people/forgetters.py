"""What each context forgets of a person: a hook that ``/forget`` calls in its unit of work.

People's data is copied into the records of every context (bookings, orders,
reports, sign-ups). Each context that keeps such records registers a
:class:`Forgetter` from the composition root; :func:`privacy.forget` calls
every one inside the same transaction, after cancelling what people-side
things were still to come, so one commit leaves only anonymous placeholders
everywhere. A forgetter must use ``tx.purge`` (not ``put``) for any record that
may be archived, so no earlier version stays on disk.

This module is a leaf: it is generic in the app it is given, so the app
protocol can name it without an import cycle.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, TypeVar

from assistant.store.base import Tx

A_contra = TypeVar("A_contra", contravariant=True)


class Forgetter(Protocol[A_contra]):
    """Cancel what is still to come for a person, and purge their data from a context's records."""

    def __call__(
        self,
        tx: Tx,
        app: A_contra,
        person_id: str,
        addresses: frozenset[str],
        now: datetime,
    ) -> None:
        """Do it inside the caller's transaction (the unit of work of ``/forget``)."""
