"""The Matrix channel (matrix-nio with end-to-end encryption).

:class:`MatrixChannel` serves the bot account in the bot process: it keeps one
device and its keys across restarts, accepts invitations, answers in encrypted
and plain rooms alike, and shows choices as numbered lines answered by number,
label or keycap reaction. :class:`MatrixDelivery` is how workers send: they hand
messages to the bot process, the only holder of the device's keys.
"""

from __future__ import annotations

from assistant.channels.matrix.channel import MatrixChannel
from assistant.channels.matrix.delivery import MatrixDelivery
from assistant.channels.matrix.sender import TryLater

__all__ = ["MatrixChannel", "MatrixDelivery", "TryLater"]
