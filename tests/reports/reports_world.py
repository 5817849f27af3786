"""A console transcript of the demo community with the real dispatch, for the reports tests."""

from __future__ import annotations

from typing import Any

from care_transcript import Transcript, buttons, texts

from assistant.bootstrap import App
from assistant.channels.common.media import MediaLibrary
from assistant.conversation.vocabulary import Incoming, Kind, make_address
from assistant.jobs.firing import bound
from assistant.services import reports
from assistant.store.base import Doc

GATE = "锦绣家园东门"
GATE_PIN = (25.06412, 118.18903)
NEAR_GATE = (25.06440, 118.18903)  # about 31 m north of the gate
FAR_FROM_GATE = (25.06600, 118.18903)  # about 210 m north
REPORTERS = ("林奶奶", "王先生", "快递员小张")
REPORTER_PHONES = ()
PATROL = ("chen", "li", "liu")

__all__ = ["buttons", "texts"]


class ReportsTranscript(Transcript):
    """The care transcript plus reports helpers: pins, photos, cases."""

    def __init__(self, app: App | None = None) -> None:
        super().__init__(app)

    async def pin(self, user: str, lat: float, lon: float) -> list[dict[str, Any]]:
        return await self.send(**{"as": user, "location": [lat, lon]})

    async def raw(self, incoming: Incoming) -> list[str]:
        """Hand one event straight to the engine (what a channel could send), then run the jobs."""
        start = self.out.tell()
        out = await self.engine.handle(incoming)
        for message in out:
            self.channel.deliver(message)  # the console remembers the buttons shown
        self.app.queue.run_all(bound(self.app))  # type: ignore[attr-defined]
        self._read_from(start)
        return [m.reply.text for m in out]

    async def photo(self, user: str) -> tuple[str, list[str]]:
        """``user`` sends a photo (kept in the media library first, as a channel does)."""
        address = make_address("console", user)
        ref = MediaLibrary(self.app.store).keep(
            "telegram", f"file-{user}", "photo", address, self.clock.now()
        )
        said = await self.raw(Incoming(sender=address, kind=Kind.PHOTO, file_ref=ref))
        return ref, said

    async def report(
        self, user: str, category: str = "未戴口罩", place: str = GATE, note: str = ""
    ) -> list[dict[str, Any]]:
        """``user`` reports ``category`` at a known place of the demo, through the buttons."""
        await self.say(user, "/report")
        await self.press(user, category)
        if place not in self.labels(user):
            await self.press(user, "其他网格的地点")
            await self.press(user, "锦绣家园一网格")
        await self.press(user, place)
        if note:
            return await self.say(user, note)
        return await self.press(user, "提交")

    def cases(self) -> list[Doc]:
        with self.app.store.snapshot() as tx:
            return [c for c in tx.all(reports.CASES) if not c.get("demo")]

    def case(self, case_id: str) -> Doc:
        with self.app.store.snapshot() as tx:
            return tx.require(reports.CASES, case_id)

    def history(self) -> list[str]:
        return self.out.getvalue().splitlines()
