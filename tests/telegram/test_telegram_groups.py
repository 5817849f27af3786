"""The bot in a group chat: strict about what it answers, silent about people, linkable to a grid."""

from __future__ import annotations

from people_sim import Person
from tg_demo import COORDINATOR_ID, Running

from assistant.clock import to_iso
from assistant.i18n import translator
from assistant.services import people
from assistant.services.people import community

ZH = translator("zh_CN")
GROUP = -1001


def _registered(running: Running, uid: int, name: str) -> None:
    with running.app.store.transaction() as tx:
        people.create_person(
            tx,
            name=name,
            address=f"telegram:{uid}",
            language="zh_CN",
            now=to_iso(running.app.clock.now()),
            grid_id="jx-1",
            household={"complex": "锦绣家园", "building": "1", "unit": "1", "room": "302"},
            phone="13800000099",
        )


async def test_a_group_is_noticed_answered_strictly_and_linked(running: Running) -> None:
    fake = running.fake
    group = fake.group(GROUP, "锦绣家园一网格邻里群")
    coordinator = fake.user(COORDINATOR_ID, "小周")
    _registered(running, 401, "林奶奶三号")
    lin = Person(fake, 401)

    # Given the coordinator adds the bot to a group
    fake.bot_membership(coordinator, group, "member")
    # Then the coordinators hear of it and the group is greeted
    await fake.wait_until(lambda: fake.sent_to(COORDINATOR_ID) and fake.sent_to(GROUP))
    assert fake.sent_to(COORDINATOR_ID)[0].text == ZH.t("tg.group_added", title=group["title"])
    assert fake.sent_to(GROUP)[0].text == ZH.t("tg.group_hello")
    hello = fake.last(GROUP)

    # When residents chat, and use commands not addressed to this bot
    fake.send_text(lin.user, "大家好", chat=group)
    fake.send_text(lin.user, "/me", chat=group)
    fake.send_text(lin.user, "/me@OtherBot", chat=group)
    # And then address it: /me, a /linkgrid they may not use, and /help as a reply to the bot
    fake.send_text(lin.user, "/me@CentreTestBot", chat=group)
    fake.send_text(lin.user, "/linkgrid@CentreTestBot jx-1", chat=group)
    fake.send_text(lin.user, "/help", chat=group, reply_to=hello)
    await fake.wait_until(lambda: len(fake.sent_to(GROUP)) == 4)
    # And the coordinator links the group to grid jx-1
    fake.send_text(coordinator, "/linkgrid@CentreTestBot jx-1", chat=group)
    await fake.wait_until(lambda: len(fake.sent_to(GROUP)) == 5)

    # Then only the addressed commands were answered, and no personal data was shown
    texts = [sent.text for sent in fake.sent_to(GROUP)][1:]
    assert texts == [
        ZH.t("core.group_private_only"),
        ZH.t("tg.group_not_coordinator"),
        ZH.t("core.group_help"),
        ZH.t("tg.group_linked", grid="锦绣家园一网格"),
    ]
    assert not any(secret in text for text in texts for secret in ("林奶奶三号", "302", "138"))
    with running.app.store.snapshot() as tx:
        linked = community.grid_of_group(tx, f"telegram:{GROUP}")
    assert linked is not None and linked["id"] == "jx-1"

    # When the bot is removed from the group
    fake.bot_membership(coordinator, group, "left")
    # Then the coordinators are told which grid lost its group
    await fake.wait_until(lambda: len(fake.sent_to(COORDINATOR_ID)) == 2)
    assert "锦绣家园一网格" in fake.sent_to(COORDINATOR_ID)[1].text

    # And the grid forgets the group, so calls for help do not go to a chat the bot left
    def unlinked() -> bool:
        with running.app.store.snapshot() as tx:
            grid = tx.get(community.GRIDS, "jx-1")
        return grid is not None and not grid.get("group_chat")

    await fake.wait_until(unlinked)


async def test_a_group_deep_link_links_the_grid(running: Running) -> None:
    # Given a coordinator who adds the bot with the link ...?startgroup=link-jx-2
    fake = running.fake
    group = fake.group(GROUP - 1, "锦绣家园二网格邻里群")
    coordinator = fake.user(COORDINATOR_ID, "小周")

    # When Telegram sends the payload in the group
    fake.send_text(coordinator, "/start@CentreTestBot link-jx-2", chat=group)
    await fake.wait_until(lambda: fake.sent_to(GROUP - 1))

    # Then the group becomes jx-2's neighbours' group
    assert fake.sent_to(GROUP - 1)[0].text == ZH.t("tg.group_linked", grid="锦绣家园二网格")
    with running.app.store.snapshot() as tx:
        assert community.grid_of_group(tx, f"telegram:{GROUP - 1}") is not None


async def test_blocking_and_unblocking_the_bot_in_private(running: Running) -> None:
    # Given a registered resident
    fake = running.fake
    _registered(running, 402, "王先生二号")
    wang = fake.user(402, "王")

    # When they block the bot, then unblock it
    fake.bot_membership(wang, fake.chats[402], "kicked")

    def reachable() -> bool:
        with running.app.store.snapshot() as tx:
            return bool(tx.get(people.ADDRESSES, "telegram:402")["reachable"])

    # Then the address is unreachable, then reachable again
    await fake.wait_until(lambda: not reachable())
    fake.bot_membership(wang, fake.chats[402], "member")
    await fake.wait_until(reachable)
