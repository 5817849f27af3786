"""Words instead of buttons: plain text typed outside any flow leads to the flow it names."""

from __future__ import annotations

import re

import pytest
from console_transcript import Transcript, buttons, texts

import handlers
from assistant.config import defaults
from assistant.conversation.keywords import BUILT_IN, Intents, split_keywords
from assistant.conversation.vocabulary import Incoming, Kind, make_address
from assistant.i18n import LANGUAGES, catalog, translator
from assistant.services.people import community

ZH, EN = translator("zh_CN"), translator("en")
MENU_ZH = ZH.t("core.menu", name="林奶奶")


async def test_an_elderly_resident_books_care_in_her_own_words() -> None:
    # Given 林奶奶 with nothing going on
    t = Transcript()
    # When she types what she wants instead of pressing a button
    reply = await t.say("lin", "我想预约上门照料")
    # Then the care booking starts at its first question
    assert ZH.t("care.ask_service") in texts(reply)
    with t.app.store.snapshot() as tx:
        assert tx.get("conversations", "console:lin")["state"] == "care.service"


@pytest.mark.parametrize(
    ("text", "answer"),
    [("超市的鸡蛋过期了", None)],
)
async def test_things_without_a_flow_get_a_kind_answer_and_the_menu(
    text: str, answer: str | None
) -> None:
    t = Transcript()
    reply = await t.say("lin", text)
    said = texts(reply)
    if answer is not None:
        assert "暂时还不能在这里办" in said and ZH.t(answer, reach="").split("。")[0] in said
        # No phone is set: people are asked to come by the centre, never told an empty number
        assert "请直接到幸福邻里中心来" in said
        assert MENU_ZH in said
    else:
        # Two topics match ("超市" sale, "过期" report): ask which one
        assert ZH.t("core.guess_many") in said
        assert ZH.t("orders.menu_shop") in buttons(reply)


async def test_buying_groceries_in_words_opens_the_shop() -> None:
    t = Transcript()
    reply = await t.say("lin", "我想买菜")
    assert ZH.t("orders.on_sale_intro") in texts(reply) and "赣南脐橙" in texts(reply)


def test_the_centre_phone_is_given_when_it_is_set() -> None:
    settings = defaults().with_values(community={"phone": "0571-12345678"})
    assert "请打电话 0571-12345678" in community.how_to_reach(settings, ZH)


async def test_english_words_work_for_everyone_and_never_show_chinese_names() -> None:
    t = Transcript()
    await t.say("lin", "/me")
    await t.press("lin", "换语言")
    await t.press("lin", "English")
    await t.press("lin", "Close")
    reply = await t.say("lin", "I'd like to buy some vegetables")
    said = texts(reply)
    assert "On sale now" in said and "Gannan navel oranges" in said
    await t.say("lin", "/cancel")  # the shop is a form now: leave it first
    assert not re.search(r"[\u4e00-\u9fff]", said.replace("林奶奶", ""))
    reply = await t.say("lin", "please book a home care visit")
    assert EN.t("care.ask_service") in texts(reply)


async def test_several_flows_match_so_the_assistant_asks_with_buttons() -> None:
    t = Transcript()
    reply = await t.say("wang", "帮我妈预约")
    assert ZH.t("core.guess_many") in texts(reply)
    assert buttons(reply) == ["预约服务", "家人代办", "都不是，看菜单"]
    # Pressing one starts that flow
    chosen = await t.press("wang", "家人代办")
    assert ZH.t("family.ask_name") in texts(chosen)
    with t.app.store.snapshot() as tx:
        assert tx.get("conversations", "console:wang")["state"] == "family.name"


async def test_a_weak_match_is_asked_about_and_none_of_these_shows_the_menu() -> None:
    t = Transcript()
    reply = await t.say("lin", "我昨天和邻居聊天说到了看病的事情")
    assert ZH.t("core.guess_one") in texts(reply)
    assert buttons(reply) == ["预约服务", "都不是，看菜单"]
    menu = await t.press("lin", "都不是，看菜单")
    assert MENU_ZH in texts(menu)


async def test_a_longer_keyword_wins_cancelling_is_not_booking() -> None:
    t = Transcript()
    reply = await t.say("lin", "取消预约")
    assert ZH.t("care.ask_service") not in texts(reply)
    with t.app.store.snapshot() as tx:
        assert tx.get("conversations", "console:lin")["state"] is None


async def test_words_lead_only_to_flows_of_the_persons_roles() -> None:
    t = Transcript()
    # A resident asking for "my tasks" just sees the menu
    resident = await t.say("lin", "我的任务")
    assert MENU_ZH in texts(resident)
    # A volunteer gets their tasks
    volunteer = await t.say("chen", "我的任务")
    assert MENU_ZH not in texts(volunteer) and texts(volunteer).strip()
    # A coordinator's phone booking answers only the coordinator
    coordinator = await t.say("grid", "电话预约")
    with t.app.store.snapshot() as tx:
        assert tx.get("conversations", "console:grid")["state"] == "care.find"
    assert texts(coordinator).strip()


@pytest.mark.parametrize("value", ["a:guess:phonebook", "a:guess:nothing", "a:guess:", "a:guess"])
async def test_forged_do_you_mean_buttons_are_refused(value: str) -> None:
    t = Transcript()
    sender = make_address("console", "lin")
    replies = await t.engine.handle(Incoming(sender=sender, kind=Kind.PRESS, press=value))
    said = "\n".join(m.reply.text for m in replies)
    assert ZH.t("core.button_expired") in said or ZH.t("core.not_allowed") in said
    with t.app.store.snapshot() as tx:
        assert (tx.get("conversations", "console:lin") or {}).get("state") is None


async def test_typing_inside_a_form_still_answers_the_form() -> None:
    t = Transcript()
    await t.say("wang", "/family")
    reply = await t.say("wang", "预约")  # a relative's name that happens to be a keyword
    assert ZH.t("family.ask_relation") in texts(reply)


def test_every_flow_a_person_can_start_has_keywords() -> None:
    names = {flow.name for flow in handlers.FLOWS}
    assert set(handlers.KEYWORDS) <= names, "keywords for a flow that does not exist"
    missing = [f.name for f in handlers.FLOWS if f.commands and not f.keywords_key]
    assert not missing


def test_keyword_lists_are_usable_in_both_languages() -> None:
    intents = Intents({f.name: f for f in handlers.FLOWS}, handlers.TOPICS)
    keys = {f.keywords_key for f in handlers.FLOWS if f.keywords_key}
    keys |= {t.keywords_key for t in handlers.TOPICS} | {key for key, _ in BUILT_IN.values()}
    labels = {t.label_key for t in handlers.TOPICS} | {t.answer_key for t in handlers.TOPICS}
    labels |= {label for _, label in BUILT_IN.values()}
    owner: dict[str, str] = {}
    for language in LANGUAGES:
        messages = catalog(language)
        for key in labels:
            assert messages.get(key), f"{language} lacks {key}"
        for key in keys | {"keywords.filler"}:
            words = split_keywords(messages.get(key, ""))
            assert words, f"{language} lacks keywords {key}"
            if key == "keywords.filler":
                continue
            for word in words:
                assert len(word) >= 2, f"{language} {key}: {word!r} is too short to mean anything"
                # One word leads to one place
                assert owner.setdefault(word, key) == key, f"{word!r} in {owner[word]} and {key}"
    assert len(intents.table.words) == len(owner)


async def test_words_for_another_wish_in_the_middle_of_a_form_offer_to_go_there() -> None:
    # Given 林奶奶 choosing a care service (a question answered with buttons)
    t = Transcript()
    await t.say("lin", "/care")
    # When she types that someone is without a mask instead
    reply = await t.say("lin", "有人没戴口罩")
    # Then she is offered to report it, and the care question is asked again below
    offer = ZH.t("core.switch_yes", what=ZH.t("reports.menu"))
    assert offer in buttons(reply)
    assert texts(reply).index("刚才没办完的先放下") < texts(reply).index(ZH.t("care.ask_service"))
    with t.app.store.snapshot() as tx:
        assert tx.get("conversations", "console:lin")["state"] == "care.service"
    # And one tap takes her to the report, the unfinished booking set aside
    report = await t.press("lin", offer)
    with t.app.store.snapshot() as tx:
        assert tx.get("conversations", "console:lin")["state"] == "reports.category"
    assert ZH.t("care.ask_service") not in texts(report)


async def test_words_for_the_same_form_or_nothing_clear_get_the_usual_hint() -> None:
    t = Transcript()
    await t.say("lin", "/care")
    # Words that name the form she is in, or nothing at all, change nothing
    for words in ("我想预约上门照料", "嗯嗯"):
        reply = await t.say("lin", words)
        assert not any(b.startswith("去办") for b in buttons(reply))
        assert ZH.t("care.ask_service") in texts(reply)


async def test_english_words_for_another_wish_mid_form_offer_to_go_there_too() -> None:
    t = Transcript()
    await t.say("lin", "/language")
    await t.press("lin", "English")
    await t.say("lin", "/care")
    reply = await t.say("lin", "someone is not wearing a mask")
    assert EN.t("core.switch_yes", what=EN.t("reports.menu")) in buttons(reply)
    assert EN.t("care.ask_service") in texts(reply)


@pytest.mark.parametrize("words", ["取消", "算了。", "不要了！", "cancel", "Stop"])
async def test_a_word_that_says_stop_ends_the_form_as_cancel_does(words: str) -> None:
    t = Transcript()
    await t.say("lin", "/care")
    reply = await t.say("lin", words)
    assert ZH.t("core.cancelled") in texts(reply)
    with t.app.store.snapshot() as tx:
        assert tx.get("conversations", "console:lin")["state"] is None
    # Outside any form the same word is just words (nothing to stop)
    assert ZH.t("core.cancelled") not in texts(await t.say("lin", words))
