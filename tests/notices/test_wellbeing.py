"""A wellbeing round without a notice: the coordinator picks the elders living alone, volunteers knock."""

from __future__ import annotations

from notices_world import World, texts, to

from assistant.conversation.buttons import KnockCheck, KnockVerb
from assistant.services import people
from assistant.services.dispatch.records import OFFERS


def _offered_users(w: World, task_id: str) -> list[str]:
    with w.app.store.snapshot() as tx:
        found = [tx.get(people.PEOPLE, o["person_id"]) for o in tx.find(OFFERS, task_id=task_id)]
    return sorted(str(p["addresses"][0]).partition(":")[2] for p in found if p)


async def test_door_knocks_for_the_elders_living_alone_without_a_notice() -> None:
    # Given the demo community, where 何奶奶 and 冯爷爷 live alone in 山水湾 6栋
    w = World()
    # When the coordinator starts a wellbeing round on the elders living alone
    asked = await w.say("grid", "/wellbeing")
    labels = [label for m in to(asked, "grid") for row in m.get("buttons", []) for label in row]
    assert "独居老人（2户）" in labels and "山水湾 6栋（2户）" in labels
    confirm = await w.press("grid", "独居老人（2户）")
    assert "独居老人" in texts(confirm, "grid")
    started = await w.press("grid", "开始敲门关怀")
    # Then one round for their building is offered to volunteers, without the rooms
    assert "2 户，1 个敲门任务" in texts(started, "grid")
    [found] = w.rounds()
    assert found["building"] == "山水湾|6" and len(found["households"]) == 2
    offered = _offered_users(w, found["task_id"])
    assert offered
    offers = [m for m in started if "敲门行动（2户）" in m.get("text", "")]
    assert offers and all("101" not in m["text"] for m in offers)

    # When a volunteer accepts, and records both doors with the buttons
    volunteer = offered[0]
    accepted = await w.act(volunteer, w.offer_for(found["task_id"], volunteer))
    cards = [m for m in to(accepted, volunteer) if "敲门行动 第" in m.get("text", "")]
    assert len(cards) == 2 and "何奶奶" in cards[0]["text"]
    well = await w.act(volunteer, KnockCheck(KnockVerb.WELL, found["id"], 0).encode())
    assert "一切都好" in texts(well, volunteer)
    helped = await w.act(volunteer, KnockCheck(KnockVerb.HELP_SUPPLIES, found["id"], 1).encode())
    # Then the coordinator is alerted at once with the address, and the round is complete
    assert "山水湾 6栋 1单元 202（冯爷爷）" in texts(helped, "grid")
    assert "这一栋都记下了" in texts(helped, volunteer)

    # And /notices lists the wellbeing round with its progress
    listed = await w.say("grid", "/notices")
    assert "敲门关怀：独居老人" in texts(listed, "grid")
    detail = await w.press("grid", w.first_notice(listed))
    assert "山水湾 6栋" in texts(detail, "grid") and "2/2" in texts(detail, "grid")


async def test_only_a_coordinator_of_the_grid_may_start_one() -> None:
    # A volunteer is not offered the command at all; a stale pick is answered kindly.
    w = World()
    refused = await w.say("chen", "/wellbeing")
    assert "独居老人" not in texts(refused, "chen")
    await w.say("grid", "/wellbeing")
    stale = await w.send(**{"as": "grid", "text": "随便打的字"})
    assert "按钮" in texts(stale, "grid") or "点" in texts(stale, "grid")


async def test_a_resident_who_says_she_lives_alone_in_me_is_in_the_next_wellbeing_round() -> None:
    w = World()
    # Given 林奶奶 tells the assistant in /me that she lives alone
    await w.say("lin", "/me")
    asked = await w.press("lin", "独居情况")
    assert "没有记" in texts(asked, "lin")
    saved = await w.press("lin", "是，我一个人住")
    assert "定期来看看您" in texts(saved, "lin")
    # Then "what we keep" says so, and the coordinator's round of elders living alone has her too
    kept = await w.press("lin", "看看保存了什么")
    assert "独居" in texts(kept, "lin")
    asked = await w.say("grid", "/wellbeing")
    labels = [label for m in to(asked, "grid") for row in m.get("buttons", []) for label in row]
    assert "独居老人（3户）" in labels
    # And she can take it back
    await w.say("lin", "/me")
    await w.press("lin", "独居情况")
    await w.press("lin", "不是")
    asked = await w.say("grid", "/wellbeing")
    labels = [label for m in to(asked, "grid") for row in m.get("buttons", []) for label in row]
    assert "独居老人（2户）" in labels


async def test_the_coordinator_reaches_the_wellbeing_round_from_notices_and_the_menu() -> None:
    w = World()
    # /notices (even with no notice yet) and the main menu offer 敲门关怀 to a coordinator
    listed = await w.say("grid", "/notices")
    labels = [label for m in to(listed, "grid") for row in m.get("buttons", []) for label in row]
    assert "敲门关怀" in labels
    asked = await w.press("grid", "敲门关怀")
    assert "独居老人（2户）" in [
        b for m in to(asked, "grid") for row in m.get("buttons", []) for b in row
    ]
    menu = await w.say("grid", "/menu")
    assert "敲门关怀" in [b for m in to(menu, "grid") for row in m.get("buttons", []) for b in row]
    # A volunteer sees neither
    menu = await w.say("chen", "/menu")
    assert "敲门关怀" not in [
        b for m in to(menu, "chen") for row in m.get("buttons", []) for b in row
    ]
