"""The demo's elders for the wellbeing rounds: two living alone in 山水湾 6栋, with birth years.

何奶奶 has no chat address (a volunteer is her only way in); 冯爷爷 writes from the
console. Both carry ``lives_alone`` (picked by ``/wellbeing``) and a ``birth_year``
(checked by activities for elders over an age).
"""

from __future__ import annotations

from assistant.services import people
from assistant.store.base import Store

ELDERS = (
    # (address, name, room, birth year)
    (None, "何奶奶", "101", 1938),
    ("console:feng", "冯爷爷", "202", 1945),
)


def load(store: Store, now: str) -> int:
    """Add the demo elders living alone (grid ssw-2); return how many were added."""
    with store.transaction() as tx:
        for address, name, room, year in ELDERS:
            person = people.create_person(
                tx,
                name=name,
                address=address,
                language="zh_CN",
                now=now,
                grid_id="ssw-2",
                household={"complex": "山水湾", "building": "6", "unit": "1", "room": room},
            )
            person.update(lives_alone=True, birth_year=year)
            tx.put(people.PEOPLE, person["id"], person)
    return len(ELDERS)
