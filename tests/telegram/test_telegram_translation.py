"""What people send on Telegram reaches the engine as neutral events, or is answered sensibly."""

from __future__ import annotations

from people_sim import Person
from tg_demo import COORDINATOR_ID, Running

from assistant.channels.common.media import is_media_ref
from assistant.clock import to_iso
from assistant.conversation.vocabulary import Incoming, Kind, Outbound
from assistant.delivery import MemoryDelivery
from assistant.i18n import translator
from assistant.services import people
from assistant.services.people import invitations

ZH = translator("zh_CN")


def _resident(running: Running, uid: int, reachable: bool = True) -> str:
    """A registered resident of grid jx-1 at ``telegram:<uid>``; return the person id."""
    with running.app.store.transaction() as tx:
        person = people.create_person(
            tx,
            name="林奶奶二号",
            address=None,
            language="zh_CN",
            now=to_iso(running.app.clock.now()),
            grid_id="jx-1",
        )
        people.link_address(tx, person["id"], f"telegram:{uid}", reachable=reachable)
    return str(person["id"])


def _record(running: Running) -> list[Incoming]:
    """Keep every event the channel hands to the engine."""
    seen: list[Incoming] = []
    engine = running.channel.engine
    handle = engine.handle

    async def recording(incoming: Incoming) -> list[Outbound]:
        seen.append(incoming)
        return await handle(incoming)

    engine.handle = recording  # type: ignore[method-assign]
    return seen


async def test_each_kind_of_message_becomes_a_neutral_event(running: Running) -> None:
    # Given a registered resident whose events we watch
    fake = running.fake
    _resident(running, 301)
    seen = _record(running)
    lin = Person(fake, 301, "林", "zh-hans")

    # When she shares a location, a photo, her own number, a sticker and a poll
    fake.send_location(lin.user, 29.87, 121.55)
    fake.send_photo(lin.user, caption="楼道堆了杂物")
    fake.send_contact(lin.user, "13800000011")
    fake.send_sticker(lin.user)
    fake.send_poll(lin.user)
    fake.send_text(lin.user, "/start@CentreTestBot hh-nothing")
    await fake.wait_until(lambda: len(seen) == 6)

    # Then each arrives as the matching neutral event, with who she is
    kinds = [incoming.kind for incoming in seen]
    assert kinds == [Kind.LOCATION, Kind.PHOTO, Kind.CONTACT, Kind.OTHER, Kind.OTHER, Kind.COMMAND]
    assert seen[0].location == (29.87, 121.55)
    # (a photo reaches the engine as a neutral media reference to the largest size)
    photo = running.channel.media.get(seen[1].file_ref)
    assert is_media_ref(seen[1].file_ref) and photo.kind == "photo"
    assert photo.files["telegram"].endswith("-1280") and seen[1].text == "楼道堆了杂物"
    assert seen[2].contact_phone == "13800000011"
    assert seen[5].command == "start" and seen[5].args == "hh-nothing"
    assert all(i.sender == "telegram:301" and not i.is_group for i in seen)
    assert {i.language_hint for i in seen} == {"zh-hans"}
    assert {i.display_name for i in seen} == {"林"}
    # And the engine answers the sticker kindly
    await fake.wait_until(
        lambda: any(ZH.t("core.cannot_use_that") in s.text for s in lin.received())
    )


async def test_someone_elses_contact_and_edits_get_a_hint(running: Running) -> None:
    # Given a resident in a chat with the bot
    fake = running.fake
    _resident(running, 302)
    seen = _record(running)
    lin = Person(fake, 302)

    # When she forwards someone else's contact card, then edits an old message
    hint = await lin.shares_contact("13900000000", owner_id=777)
    fake.edit_text(lin.user, 1, "改了")
    edited = await fake.wait_until(lambda: len(lin.received()) == 2 and lin.received()[-1])

    # Then each gets a short hint, and the engine never sees them
    assert hint[0].text == ZH.t("tg.contact_not_own")
    assert edited.text == ZH.t("tg.edited_ignored")
    assert seen == []


async def test_a_voice_note_reaches_the_grid_coordinators(running: Running) -> None:
    # Given a resident of grid jx-1, whose coordinators are on Telegram and the console
    fake = running.fake
    _resident(running, 303)
    lin = Person(fake, 303)

    # When she records a voice note
    fake.send_voice(lin.user)
    await fake.wait_until(lambda: len(fake.sent_to(COORDINATOR_ID)) == 2)

    # Then she is told a staff member will listen
    assert lin.received()[-1].text == ZH.t("tg.voice_thanks")
    # And the Telegram coordinator gets a note and the voice itself
    to_coordinator = fake.sent_to(COORDINATOR_ID)
    assert "林奶奶二号" in to_coordinator[0].text
    assert to_coordinator[1].method == "sendVoice"
    assert to_coordinator[1].params["voice"].startswith("voice-")
    # And the console coordinator's copy goes through app.delivery, carrying the file ref
    delivered = running.app.delivery
    assert isinstance(delivered, MemoryDelivery)

    def to_console() -> list[Outbound]:
        return [m for m in delivered.sent if m.to == "console:grid"]

    console = await fake.wait_until(to_console)
    # (as a neutral media reference, which resolves to the voice Telegram was sent)
    ref = console[0].meta["voice"]
    assert is_media_ref(ref) and not ref.startswith("voice-")
    assert running.channel.media.get(ref).files["telegram"] == to_coordinator[1].params["voice"]


async def test_a_deep_link_links_an_invited_volunteer(running: Running) -> None:
    # Given an invitation for the imported volunteer 陈建国
    code = invitations.create(running.app, "volunteer", "陈建国")
    chen = Person(running.fake, 304, "Chen")

    # When he opens the bot through the link (Telegram sends /start <payload>)
    welcome = await chen.says(f"/start {code}", expect=2)

    # Then his Telegram chat is linked to his volunteer profile
    assert welcome[0].text.startswith("陈建国")
    with running.app.store.snapshot() as tx:
        person = people.person_at(tx, "telegram:304")
    assert person is not None and person["name"] == "陈建国"


async def test_writing_makes_an_imported_address_reachable(running: Running) -> None:
    # Given an address imported for a resident who never opened the bot
    _resident(running, 305, reachable=False)
    lin = Person(running.fake, 305)

    # When she writes for the first time
    await lin.says("你好")

    # Then the bot records that it can reach her
    with running.app.store.snapshot() as tx:
        assert tx.get(people.ADDRESSES, "telegram:305")["reachable"] is True


def test_every_command_in_telegrams_menu_is_one_the_engine_knows() -> None:
    from assistant.bootstrap import build_for_tests
    from assistant.channels.telegram.profile import COMMANDS
    from assistant.conversation.engine import ALWAYS
    from handlers import build_engine

    engine = build_engine(build_for_tests())
    assert [name for name in COMMANDS if name not in engine.commands and name not in ALWAYS] == []
