"""Activities from settings.toml, "elders over an age" by birth year, and cash paid at the door."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from notices_world import World, texts

from assistant import config, runtime
from assistant.conversation.buttons import ActivityButton, ActivityVerb
from assistant.services import activities
from assistant.services.activities import configured

TAIJI = {
    "code": "taiji",
    "name_zh": "长者太极班",
    "name_en": "Tai chi for elders",
    "kind": "recurring",
    "weekdays": [0, 1, 2, 3, 4, 5, 6],
    "at": "15:00",
    "place": "幸福邻里中心一楼活动室",
    "capacity": 20,
    "who": "elders",
    "min_age": 60,
    "price": "15.00",
    "duration_minutes": 60,
}


def _world(*programme: dict[str, Any]) -> World:
    w = World(sections={"activities": {"programme": list(programme)}})
    runtime.load_programme(w.app)  # what start-up does
    return w


async def _to_confirm(w: World, user: str) -> list[dict[str, Any]]:
    shown = await w.say(user, "/activities")
    await w.press(user, w.label(shown, "长者太极班"))
    sessions = await w.press(user, w.label(w.seen[-1:], "今天 15:00"))
    return await w.press(user, "自己") if "给谁" in texts(sessions) else sessions


def test_settings_activities_load_idempotently_by_code() -> None:
    # Given the programme loaded at start-up
    w = _world(TAIJI)
    with w.app.store.snapshot() as tx:
        doc = tx.require(activities.ACTIVITIES, "ac-taiji")
    assert doc["price"] == "15.00" and doc["min_age"] == 60 and doc["code"] == "taiji"
    # When it is loaded again unchanged, then with a new place and capacity
    now = w.clock.now()
    again = configured.load(w.app.store, w.app.settings.get("activities", "programme"), now)
    assert again == configured.Loaded(unchanged=1)
    changed = {**TAIJI, "place": "二楼", "capacity": 12}
    checked = config.defaults().with_values(activities={"programme": [changed]})
    moved = configured.load(w.app.store, checked.get("activities", "programme"), now)
    # Then the same activity is updated in place
    assert moved == configured.Loaded(changed=1)
    with w.app.store.snapshot() as tx:
        doc = tx.require(activities.ACTIVITIES, "ac-taiji")
        assert (doc["place"], doc["capacity"]) == ("二楼", 12)
        assert len([a for a in tx.all(activities.ACTIVITIES) if a.get("code")]) == 1


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"price": 15.5}, "#1 (taiji) price"),
        ({"kind": "weekly"}, "#1 (taiji) kind"),
        ({"capacity": 0}, "#1 (taiji) capacity"),
        ({"colour": "red"}, "#1 colour: unknown key"),
        ({"who": "anyone"}, "#1 (taiji) min_age"),
        ({"code": "Tai Chi"}, "#1 code"),
    ],
)
def test_a_bad_activity_in_settings_stops_start_up_naming_the_key(
    tmp_path: Path, change: dict[str, Any], named: str
) -> None:
    body = {**TAIJI, **change}
    lines = ["[[activities.programme]]"]
    for key, value in body.items():
        text = f'"{value}"' if isinstance(value, str) else str(value).lower()
        lines.append(f"{key} = {text}")
    file = tmp_path / "settings.toml"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(config.SettingsError) as stopped:
        config.load(file, environ={})
    assert f"[activities] programme {named}" in str(stopped.value)


async def test_elders_over_sixty_by_birth_year_and_the_price_paid_at_the_door() -> None:
    w = _world(TAIJI)
    # Given 林奶奶, whose birth year is not known: she is told kindly how to give it
    summary = await _to_confirm(w, "lin")
    assert "¥15" in texts(summary, "lin")  # the price is shown before confirming
    refused = await w.press("lin", "确认报名")
    assert "出生年份" in texts(refused, "lin") and "/me" in texts(refused, "lin")
    # When she gives it in /me (a wrong one first)
    await w.say("lin", "/me")
    await w.press("lin", "出生年份")
    wrong = await w.say("lin", "四八年")
    assert "四位数" in texts(wrong, "lin")
    saved = await w.say("lin", "1948")
    assert "1948" in texts(saved, "lin")
    kept = await w.press("lin", "看看保存了什么")
    assert "出生年份：1948" in texts(kept, "lin")
    await w.press("lin", "关闭")
    # Then she can sign up
    await _to_confirm(w, "lin")
    booked = await w.press("lin", "确认报名")
    assert "报上了" in texts(booked, "lin")
    # And 王先生, born in 1985, is told it is for elders over 60
    await w.say("wang", "/me")
    await w.press("wang", "出生年份")
    await w.say("wang", "1985")
    await w.press("wang", "关闭")
    await _to_confirm(w, "wang")
    young = await w.press("wang", "确认报名")
    assert "60岁以上" in texts(young, "wang")

    # When the coordinator takes her 15 yuan at the door, in /attendance
    listed = await w.say("grid", "/attendance")
    roster = await w.press("grid", w.label(listed, "长者太极班"))
    assert "收费 ¥15.00" in [label for m in roster for row in m.get("buttons", []) for label in row]
    with w.app.store.snapshot() as tx:
        [signup] = tx.all(activities.SIGNUPS)
    paid = await w.act("grid", ActivityButton(ActivityVerb.PAID, str(signup["id"])).encode())
    assert "林奶奶 交了 ¥15.00" in texts(paid, "grid")
    # Then she is present and paid, and the attendance CSV says so
    with w.app.store.snapshot() as tx:
        [signup] = tx.all(activities.SIGNUPS)
        assert (signup["status"], signup["paid"]) == ("attended", "15.00")
        exported = activities.export_csv(tx, w.app, "ac-taiji")
    [row] = list(csv.DictReader(io.StringIO(exported)))
    assert (row["name"], row["price"], row["paid"]) == ("林奶奶", "15.00", "15.00")

    # And /forget takes the birth year with everything else
    await w.say("lin", "/forget")
    await w.press("lin", "确定删除")
    with w.app.store.snapshot() as tx:
        forgotten = tx.require("people", str(signup["person_id"]))
    assert forgotten["forgotten"] and "birth_year" not in forgotten


def test_the_volunteers_import_may_carry_a_birth_year() -> None:
    from assistant.services import people
    from assistant.services.people import imports

    w = World()
    rows = (
        "name,address,grid_id,skills,teams,phone,birth_year\n"
        "老周,console:laozhou,jx-1,care,老党员志愿服务队,13800001111,1952\n"
        "小吴,console:xiaowu,jx-1,delivery,,13800002222,\n"
    )
    imports.import_volunteers(w.app.store, rows, "2026-06-01T00:00:00+00:00")
    with w.app.store.snapshot() as tx:
        elder = people.person_at(tx, "console:laozhou")
        young = people.person_at(tx, "console:xiaowu")
    assert elder is not None and elder["birth_year"] == 1952
    assert young is not None and "birth_year" not in young
    with pytest.raises(imports.ImportError_, match="row 2, column birth_year"):
        imports.parse_volunteers(rows.replace("1952", "五二年"), {"jx-1"})
