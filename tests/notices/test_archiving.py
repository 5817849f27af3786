"""Finished notices move out of the hot files by a daily job; /notices still shows them."""

from __future__ import annotations

from notices_world import World, texts, write_notice

from assistant.conversation.buttons import NoticeButton, NoticeVerb
from assistant.services import notices
from assistant.services.notices import archive


def _hot(w: World, collection: str) -> list[str]:
    with w.app.store.snapshot() as tx:
        return [d["id"] for d in tx.all(collection)]


async def test_a_finished_notice_is_archived_a_week_after_its_deadline_and_still_listed() -> None:
    # Given a notice to one grid that every household acknowledged
    w = World()
    await write_notice(w, grids=("锦绣家园二网格",))
    await w.press("grid", "发送")
    w.settle()
    notice_id = w.notice()["id"]
    ack = NoticeButton(NoticeVerb.ACK, notice_id).encode()
    for user in ("sun", "zhou", "li"):
        await w.act(user, ack)
    # When the deadline passes, then six days
    w.travel(hours=33)
    w.travel(days=6)
    # Then it is still in the hot files (finished less than a week ago)
    assert notice_id in _hot(w, notices.NOTICES)
    # When the next daily tidy runs a week after the deadline
    w.travel(days=1, hours=12)
    # Then the notice and its households left the hot files for the archive
    assert notice_id not in _hot(w, notices.NOTICES)
    assert not [d for d in _hot(w, notices.HOUSEHOLDS) if d.startswith(notice_id)]
    with w.app.store.snapshot() as tx:
        archived = tx.require(notices.NOTICES, notice_id)
        assert [r.acked for r in notices.rates(tx, archived)] == [3]
    # And /notices still lists it, with its rate, read from the archive
    listed = await w.say("grid", "/notices")
    assert "锦绣家园二网格：3/3 户（100%）" in texts(listed, "grid")


async def test_a_notice_whose_door_knock_round_is_still_open_stays_hot() -> None:
    w = World()
    await write_notice(w, grids=("锦绣家园二网格",))
    await w.press("grid", "发送")
    w.settle()
    notice_id = w.notice()["id"]
    w.travel(hours=33)  # nobody answered: door-knock rounds, never taken
    w.travel(days=10)
    assert notice_id in _hot(w, notices.NOTICES)
    with w.app.store.snapshot() as tx:
        assert archive.finished_at(tx, tx.require(notices.NOTICES, notice_id)) is None
