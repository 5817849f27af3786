"""Long notices split cleanly per network; a notice can be stopped while it goes out."""

from __future__ import annotations

import pytest
from notices_world import World, texts, to, write_notice

from assistant.conversation.buttons import NoticeButton, NoticeVerb
from assistant.jobs import timers
from assistant.services import notices
from assistant.services.notices import text as notice_text


def test_a_short_text_is_one_part() -> None:
    assert notice_text.split("明天停水。", 100) == ["明天停水。"]


def test_a_long_text_is_cut_at_paragraphs_then_sentences_and_numbered() -> None:
    paragraph = "请各位居民提前储水，老人家请家属帮忙。" * 10  # 190 characters
    whole = "\n\n".join([paragraph] * 5)
    parts = notice_text.split(whole, 400)
    assert len(parts) > 1
    assert all(len(p) <= 400 for p in parts)
    assert parts[0].endswith(f"（1/{len(parts)}）") and parts[-1].endswith(
        f"（{len(parts)}/{len(parts)}）"
    )
    body = "".join(p.rsplit("\n", 1)[0] for p in parts)
    assert body.replace("\n", "") == whole.replace("\n", "")  # nothing lost, nothing doubled
    unbroken = "停水" * 300  # no break at all: cut at the limit
    assert all(len(p) <= 100 for p in notice_text.split(unbroken, 100))


def test_too_small_a_limit_is_a_bug_of_the_caller() -> None:
    with pytest.raises(ValueError):
        notice_text.split("x" * 50, 10)


async def test_a_notice_longer_than_a_telegram_message_goes_in_parts_with_one_button() -> None:
    w = World()
    await w.say("grid", "/notice")
    await w.press("grid", "锦绣家园二网格")
    await w.press("grid", "下一步")
    chunk = "关于小区二次供水设施改造：施工期间请各户提前储水，注意安全。" * 60  # ~1,800 characters
    await w.say("grid", chunk)
    await w.say("grid", chunk)
    await w.say("grid", chunk)
    await w.press("grid", "写完了")
    await w.press("grid", "跳过")
    await w.press("grid", "需要确认")
    await w.press("grid", "明天 18:00")
    sent = await w.press("grid", "发送")
    sent += w.settle()
    parts = to(sent, "sun")
    assert len(parts) == 2
    assert [bool(p.get("buttons")) for p in parts] == [False, True]  # "收到" on the last part only
    assert all(len(p["text"]) <= notice_text.limit_of("telegram") for p in parts)


async def test_the_author_stops_a_notice_before_it_has_all_gone_out() -> None:
    # Given a notice going out one copy at a time
    w = World(in_flight=1)
    await write_notice(w)
    started = await w.press("grid", "发送")
    assert len([m for m in started if m.get("buttons") == [["收到"]]]) == 1
    notice = w.notice()
    # When the coordinator withdraws it from /notices
    sure = await w.act("grid", NoticeButton(NoticeVerb.CANCEL, notice["id"]).encode())
    assert "确定要撤回" in texts(sure, "grid")
    done = await w.act("grid", NoticeButton(NoticeVerb.CANCEL_YES, notice["id"]).encode())
    # Then only the one already sent went out, and nothing more comes
    assert "撤回前已经发到 1 人" in texts(done, "grid")
    assert not [m for m in w.settle() if m.get("buttons") == [["收到"]]]
    with w.app.store.snapshot() as tx:
        live = [
            t
            for t in tx.all(timers.TIMERS)
            if t["status"] in timers.LIVE and "nt" in t.get("key", "")
        ]
        assert tx.require(notices.NOTICES, notice["id"])["status"] == "cancelled"
    assert not live
    # And a second press finds it already stopped; a resident cannot stop one
    again = await w.act("grid", NoticeButton(NoticeVerb.CANCEL_YES, notice["id"]).encode())
    assert "撤不回来了" in texts(again, "grid")


async def test_a_resident_cannot_write_or_withdraw_a_notice() -> None:
    w = World()
    refused = await w.say("lin", "/notice")
    assert "需要相应的身份" in texts(refused, "lin")
    await write_notice(w)
    await w.press("grid", "发送")
    notice = w.notice()
    stop = await w.act("lin", NoticeButton(NoticeVerb.CANCEL_YES, notice["id"]).encode())
    assert "只有这些网格的网格员" in texts(stop, "lin")
