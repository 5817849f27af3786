"""/forget reaches notices, door-knock rounds and sign-ups: nothing of the person is left."""

from __future__ import annotations

import json

from notices_world import World, write_notice

from assistant.jobs import timers
from assistant.services import activities, notices
from assistant.services.people import privacy


def _everything(w: World) -> str:
    """Every document of the notice and activity collections, hot and archived, as text."""
    collections = (
        notices.NOTICES,
        "notice_batches",
        notices.HOUSEHOLDS,
        notices.ROUNDS,
        activities.SIGNUPS,
        activities.SESSIONS,
    )
    with w.app.store.snapshot() as tx:
        docs = [d for c in collections for d in [*tx.all(c), *tx.archived(c)]]
    return json.dumps(docs, ensure_ascii=False)


async def test_forgetting_a_resident_clears_notices_rounds_and_sign_ups() -> None:
    # Given 赵阿姨 got a notice, stayed silent and is in a door-knock round,
    w = World()
    await write_notice(w, grids=("锦绣家园一网格",))
    await w.press("grid", "发送")
    w.settle()
    w.travel(hours=33)
    # and holds the last place of an evening that 孙大爷 waits for
    with w.app.store.transaction() as tx:
        doc = tx.require(activities.ACTIVITIES, "ac-nanyin")
        doc["capacity"] = 1
        tx.put(activities.ACTIVITIES, "ac-nanyin", doc)
    zhao, sun = w.person("zhao"), w.person("sun")
    with w.app.unit() as tx:
        activities.sign_up(tx, w.app, "ac-nanyin@20260606", zhao["id"], zhao["id"], w.clock.now())
        activities.sign_up(
            tx, w.app, "ac-nanyin@20260606", sun["id"], sun["id"], w.clock.now(), wait=True
        )
    assert zhao["id"] in _everything(w) and "501" in _everything(w)
    # When she asks to be forgotten
    privacy.forget(w.app, zhao["id"])
    told = w.run_jobs()
    # Then no notice, round or sign-up record names her, her id, or her room
    left = _everything(w)
    assert zhao["id"] not in left and "赵阿姨" not in left and '"501"' not in left
    # And her place went to 孙大爷, who is told
    assert any("有空位了" in m.get("text", "") for m in told if m.get("to") == "sun")
    with w.app.store.snapshot() as tx:
        assert tx.require(activities.SESSIONS, "ac-nanyin@20260606")["count"] == 1
        live = [t for t in tx.all(timers.TIMERS) if zhao["id"] in json.dumps(t, ensure_ascii=False)]
    assert not live
