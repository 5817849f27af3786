"""The sale's story on the real servers of a bigger community: PostgreSQL and the hold counter in Redis.

Given / When / Then, on a PostgreSQL database and the real Redis:
- a resident orders through /shop: the hold is in Redis, the order and the counts in the
  database, and the hold is settled after the commit;
- another's hold lapses after its time and comes back once; a cancelled order comes back and
  its units are offered to the one waiting;
- the accounting adds up at every step.
"""

from __future__ import annotations

import pytest
from orders_world import ORANGE_TITLE, World, buttons, texts
from test_shop_transcripts import ORANGES, order_oranges

from assistant.services.orders.counter import RedisCounter
from assistant.store.postgres import PostgresStore

pytestmark = pytest.mark.slow


async def test_order_lapse_cancel_and_the_waiting_list_on_postgres_and_redis(
    postgres_url: str, redis_url: str
) -> None:
    store, holds = PostgresStore(postgres_url), RedisCounter(redis_url)
    try:
        w = World(store=store, holds=holds)
        w.set_stock(ORANGE_TITLE, 3, 100)  # 97 went in earlier sales
        # Given 林奶奶 orders 2 boxes: her hold is settled, the order is in the database
        await order_oranges(w, "lin", "2箱", "自提：幸福邻里中心")
        assert holds.holds() == []
        assert w.accounting(ORANGE_TITLE) == {"stock": 100, "available": 1, "held": 0, "ordered": 2}
        # And 王先生 holds the last one and walks away; 张阿姨 finds it sold out and waits
        await w.say("wang", "/shop")
        await w.press("wang", ORANGES)
        await w.press("wang", "1箱")
        assert w.accounting(ORANGE_TITLE)["held"] == 1
        await w.say("zhang", "/shop")
        await w.press("zhang", ORANGES)
        sold_out = await w.press("zhang", "1箱")
        assert "排个队" in texts(sold_out)
        await w.press("zhang", w.labels("zhang")[0])  # yes, put me on the list
        # When his hold lapses, it comes back once and is offered to her, as a hold of her own
        told = w.travel(minutes=11)
        assert "已经放回去了" in texts(told, "wang")
        assert "好消息" in texts(told, "zhang") and "去下单" in buttons(told, "zhang")
        assert w.accounting(ORANGE_TITLE) == {"stock": 100, "available": 0, "held": 1, "ordered": 2}
        # And when 林奶奶 cancels, her two come back
        await w.say("lin", "/orders")
        await w.press("lin", "取消第1单")
        await w.press("lin", "确定取消")
        w.travel()
        assert w.accounting(ORANGE_TITLE) == {"stock": 100, "available": 2, "held": 1, "ordered": 0}
    finally:
        holds.close()
        store.close()
