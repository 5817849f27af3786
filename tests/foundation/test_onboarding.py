"""Onboarding, profile, proxies and the commands that work everywhere, as transcripts."""

from __future__ import annotations

from console_transcript import Transcript, buttons, texts

from assistant.clock import FakeClock
from assistant.services import people


async def register(t: Transcript, user: str, english: bool = False) -> None:
    await t.say(user, "/start")
    await t.press(user, "English" if english else "✓ 中文")
    await t.say(user, "Mei" if english else "梅阿姨")
    await t.press(user, "锦绣家园")
    await t.press(user, "Building 1" if english else "1栋")
    await t.press(user, "Unit 2" if english else "2单元")
    await t.say(user, "502")
    if english:
        await t.press(user, "Skip")
    else:
        await t.say(user, "139 1234 5678")


async def test_two_people_register_one_in_chinese_one_in_english() -> None:
    t = Transcript()
    # Given a newcomer who writes anything at all
    first = await t.say("mei", "你好")
    # Then the assistant greets them and asks for the language, Chinese preselected
    assert "欢迎" in texts(first) and "✓ 中文" in buttons(first)
    await register(t, "mei")
    done = await t.press("mei", "同意")
    assert "登记好了，梅阿姨" in texts(done)
    assert "锦绣家园一网格" in texts(done)
    assert "我的资料" in buttons(done)

    await register(t, "tom", english=True)
    done = await t.press("tom", "I agree")
    assert "You're registered, Mei!" in texts(done)
    assert "My profile" in buttons(done)

    with t.app.store.snapshot() as tx:
        mei = people.person_at(tx, "console:mei")
        tom = people.person_at(tx, "console:tom")
    assert mei is not None and mei["language"] == "zh_CN" and mei["grid_id"] == "jx-1"
    assert mei["household"] == {"complex": "锦绣家园", "building": "1", "unit": "2", "room": "502"}
    assert mei["phone"] == "13912345678"
    assert tom is not None and tom["language"] == "en" and tom["phone"] == ""


async def test_a_shared_contact_or_a_bad_number_at_the_phone_question() -> None:
    from assistant.conversation.vocabulary import Incoming, Kind, make_address

    t = Transcript()
    for text in ("/start", "梅阿姨"):
        await t.say("mei", text)
        if text == "/start":
            await t.press("mei", "✓ 中文")
    for label in ("锦绣家园", "1栋", "2单元"):
        await t.press("mei", label)
    asked = await t.say("mei", "502")
    assert asked[-1].get("asks") == "contact"
    bad = await t.say("mei", "call me maybe")
    assert "不对" in texts(bad)
    shared = await t.engine.handle(
        Incoming(make_address("console", "mei"), Kind.CONTACT, contact_phone="+86 139-0000-1111")
    )
    assert "同意吗" in shared[-1].reply.text


async def test_declining_the_privacy_notice_keeps_nothing() -> None:
    t = Transcript()
    await register(t, "mei")
    reply = await t.press("mei", "不同意")
    assert "没有保存" in texts(reply)
    with t.app.store.snapshot() as tx:
        assert people.person_at(tx, "console:mei") is None


async def test_cancel_help_and_start_work_in_every_state() -> None:
    t = Transcript()
    await t.say("mei", "/start")
    await t.press("mei", "✓ 中文")
    help_reply = await t.say("mei", "/help")
    # /help answers and asks the same question again
    assert "/cancel" in texts(help_reply) and "怎么称呼" in texts(help_reply)
    cancelled = await t.say("mei", "/cancel")
    assert "取消" in texts(cancelled)
    # After cancelling, an old button is expired
    stale = await t.send(**{"as": "mei", "press": "锦绣家园"})
    assert "过期" in texts(stale) or "欢迎" in texts(stale)
    again = await t.say("mei", "/start")
    assert "请选择语言" in texts(again)


async def test_wrong_kinds_of_input_get_a_kind_word_and_the_same_question() -> None:
    t = Transcript()
    await t.say("mei", "/start")
    await t.press("mei", "✓ 中文")
    await t.say("mei", "梅阿姨")
    sticker = await t.send(**{"as": "mei", "sticker": "😀"})
    assert "按钮" in texts(sticker) and "哪个小区" in texts(sticker)
    forged = await t.send(**{"as": "mei", "press": "a-forged-value"})
    assert "过期" in texts(forged)
    huge = await t.say("mei", "字" * 5000)
    assert "太长" in texts(huge)
    typed = await t.say("mei", "我也不知道")
    assert "按钮" in texts(typed)
    unknown = await t.say("mei", "/fly")
    assert "/fly" in texts(unknown)
    # And the form goes on where it was
    building = await t.press("mei", "锦绣家园")
    assert "几栋" in texts(building)


async def test_a_quiet_form_is_dropped_politely_after_the_idle_time() -> None:
    clock = FakeClock()
    from assistant.bootstrap import build_for_tests

    t = Transcript(build_for_tests(clock=clock))
    await t.say("mei", "/start")
    await t.press("mei", "✓ 中文")
    clock.advance(minutes=31)
    reply = await t.say("mei", "梅阿姨")
    assert "放下了" in texts(reply)


async def test_profile_shows_and_changes_and_forget_deletes() -> None:
    t = Transcript()
    shown = await t.say("lin", "/me")
    assert "林奶奶" in texts(shown) and "锦绣家园 1栋 1单元 302" in texts(shown)
    await t.press("lin", "改称呼")
    saved = await t.say("lin", "林阿婆")
    assert "已经保存" in texts(saved) and "林阿婆" in texts(saved)
    await t.press("lin", "换语言")
    english = await t.press("lin", "English")
    assert "Saved." in texts(english)
    kept = await t.press("lin", "What you keep about me")
    assert "302" in texts(kept)
    await t.press("lin", "Delete my data")
    gone = await t.press("lin", "Yes, delete")
    assert "deleted" in texts(gone)
    with t.app.store.snapshot() as tx:
        assert people.person_at(tx, "console:lin") is None
        placeholders = [p for p in tx.all(people.PEOPLE) if p.get("forgotten")]
    assert len(placeholders) == 1 and "household" not in placeholders[0]
    assert "302" not in str(placeholders[0])


async def test_a_family_helper_is_accepted_by_a_coordinator() -> None:
    t = Transcript()
    await t.say("wang", "/family")
    await t.say("wang", "王奶奶")
    asked = await t.press("wang", "母亲")
    assert "网格员" in texts(asked, to="wang")
    to_coordinator = [m for m in asked if m["to"] == "grid"]
    assert to_coordinator and "王奶奶" in to_coordinator[0]["text"]
    # A resident cannot press the coordinator's button
    approved = await t.press("grid", "同意")
    assert "已同意" in texts(approved, to="wang")
    with t.app.store.snapshot() as tx:
        wang = people.person_at(tx, "console:wang")
        assert wang is not None
        relatives = people.relatives_of(tx, wang["id"])
    assert [r["name"] for r in relatives] == ["王奶奶"]
    twice = await t.press("grid", "同意")
    assert "已同意" not in texts(twice, to="wang")


async def test_a_volunteer_invitation_links_the_chat_to_the_imported_profile() -> None:
    from assistant.services.people import invitations

    t = Transcript()
    code = invitations.create(t.app, "volunteer", "陈建国")
    reply = await t.say("chen2", f"/start {code}")
    assert "陈建国" in texts(reply)
    again = await t.say("other", f"/start {code}")
    assert "用过" in texts(again)


async def test_a_resident_moves_home_from_the_profile() -> None:
    t = Transcript()
    await t.say("lin", "/me")
    await t.press("lin", "改住址")
    await t.press("lin", "山水湾")
    await t.press("lin", "6栋")
    await t.press("lin", "1单元")
    saved = await t.say("lin", "808")
    assert "已经保存" in texts(saved) and "山水湾 6栋 1单元 808" in texts(saved)
    assert "山水湾二网格" in texts(saved)
    with t.app.store.snapshot() as tx:
        lin = people.person_at(tx, "console:lin")
    assert lin is not None and lin["grid_id"] == "ssw-2"


async def test_a_new_volunteer_invitation_leads_on_to_the_volunteer_application() -> None:
    from assistant.services.people import invitations

    t = Transcript()
    code = invitations.create(t.app, "volunteer", "新来的小刘")
    hello = await t.say("xiaoliu", f"/start {code}")
    assert "新来的小刘" in texts(hello)
    await t.press("xiaoliu", "✓ 中文")
    await t.say("xiaoliu", "小刘")
    await t.press("xiaoliu", "不在列表里")
    await t.press("xiaoliu", "跳过")
    joined = await t.press("xiaoliu", "同意")
    assert "登记好了" in texts(joined)
    assert joined[-1].get("buttons"), "the volunteer application asks for skills next"
