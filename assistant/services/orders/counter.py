"""The hold counter: where live holds are kept and decided, in Redis (one script per step).

A hold is a lease: a few minutes of stock set aside while a resident chooses,
given back when it lapses. So holds live where a lease belongs, in Redis,
decided by one Lua script each (atomic across every process and machine),
and a hold costs no durable commit. What must survive is in the store: the
listing's ``stock`` and ``available`` (units not in an order, changed only
by orders, cancellations and added stock), each household's ordered units
(``order_quota``), and the orders themselves (docs/ORDERS.md).

**The mirror.** The counter keeps, per listing, a copy of the store's
``available`` and of each household's ordered units, each with the store
document's version (``ver``, bumped by every change). Every step that
passes such values applies them only when their version is newer, so copies
arriving late or twice change nothing, and every hold passes what its
snapshot read: a counter that lost its memory (Redis restarted empty) is
whole again at the next hold. What the counter adds is the live holds::

    left = available (mirror) - Σ live holds

**Two implementations** of one :class:`Counter` protocol: :class:`RedisCounter`
(the product) and :class:`MemoryCounter` (one process: the in-memory tests and
``assistant console --inline``), with the same rules; ``tests/orders`` runs
the same contract on both.

Keys (Redis), ``<L>`` a listing id::

    stock:holds        hash   hold id -> the hold's record (JSON)
    stock:expiry       zset   hold id -> expires (Unix seconds)
    stock:l:<L>        hash   ver, avail, held; hh:<household> held units;
                              hqv:<household>, hq:<household> ordered units and version;
                              own:<by>|<person> the asker's live hold
    stock:t:<L>:<due>  string the lapse timer of that minute is in the store
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

Record = dict[str, Any]

HELD = "held"
CONFIRMING = "confirming"
"""A hold whose order is being written: it is given back only once both its time and the grace
(``until``: the seconds its order's unit of work may take) are past."""


class Mirror(NamedTuple):
    """The store's ``available`` of a listing at version ``ver``."""

    ver: int
    available: int


class Quota(NamedTuple):
    """A household's ordered units of a listing (the store's ``order_quota``) at version ``ver``."""

    ver: int
    units: int


@dataclass(frozen=True)
class Outcome:
    """What a hold step decided.

    ``kind``: ``ok``, ``over`` (the household's limit; ``left`` it may still take),
    ``sold_out`` or ``not_enough`` (``left`` units there are). ``released``: the
    asker's earlier hold that an ``ok`` gave back first.
    """

    kind: str
    left: int = 0
    released: str = ""


class Counter(Protocol):
    """The live holds of every listing (see the module's doc)."""

    def hold(
        self,
        record: Record,
        mirror: Mirror,
        quota: Quota,
        limit: int,
    ) -> Outcome:
        """Hold ``record["quantity"]`` units, atomically with the checks, or say why not.

        ``record`` has ``id``, ``listing_id``, ``person_id``, ``by``, ``household``,
        ``quantity``, ``expires`` (Unix seconds); its other fields are kept with it.
        The asker's earlier live hold on the listing is given back in the same step.
        """
        ...

    def get(self, hold_id: str) -> Record | None:
        """The hold's record (``status`` ``held`` or ``confirming``), or None."""
        ...

    def take(self, hold_id: str, actor: str, now: float, grace: float) -> tuple[str, Record | None]:
        """Begin turning a live hold into an order: ``ok`` (its record, now ``confirming``),
        ``gone``, ``lapsed`` or ``not_yours``. Taking one already ``confirming`` is ``ok``."""
        ...

    def settle(
        self, hold_id: str, listing_id: str, mirror: Mirror, household: str, quota: Quota
    ) -> None:
        """The hold became an order (committed): drop it and take the store's new values."""
        ...

    def release(
        self, hold_id: str, actor: str = "", *, due_by: float | None = None, any_state: bool = False
    ) -> Record | None:
        """Give a hold's units back, once; its record, or None when there was nothing to give.

        ``actor``: only theirs (else ``not_yours`` in the record's place: raises
        :class:`PermissionError`). ``due_by``: only if it expired by then (a lapse).
        ``any_state``: a ``confirming`` one too (its order was refused).
        """
        ...

    def due(self, now: float, limit: int = 500) -> list[Record]:
        """Holds past their time, oldest first (``confirming`` ones too: the sweep looks for
        their order, and gives them back only after the grace)."""
        ...

    def sync(
        self, listing_id: str, mirror: Mirror, household: str = "", quota: Quota | None = None
    ) -> None:
        """Take the store's values where they are newer (after a cancellation, added stock)."""
        ...

    def held(self, listing_id: str) -> int:
        """Units held now on the listing."""
        ...

    def holds(self) -> list[Record]:
        """Every live hold (for /forget and the waiting list's household limit)."""
        ...

    def census(self, listing_id: str) -> tuple[int, list[Record]]:
        """The listing's held total and its holds, read in one atomic step (for the accounting)."""
        ...

    def timer_noted(self, listing_id: str, due: str) -> bool:
        """Whether the lapse timer of this listing and minute is known to be in the store."""
        ...

    def note_timer(self, listing_id: str, due: str, seconds: int) -> None:
        """Remember for ``seconds`` that the timer is in the store."""
        ...


def left_of(available: int, held: int) -> int:
    """Units left to hold."""
    return max(0, available - held)


# -- in one process ---------------------------------------------------------------------------


class MemoryCounter:
    """The counter of one process, with the rules of the Redis scripts, under one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holds: dict[str, Record] = {}
        self._listings: dict[str, dict[str, Any]] = {}
        self._timers: set[tuple[str, str]] = set()

    def _listing(self, listing_id: str) -> dict[str, Any]:
        return self._listings.setdefault(
            listing_id, {"ver": -1, "avail": 0, "held": 0, "hh": {}, "hq": {}, "own": {}}
        )

    def _sync(self, listing_id: str, mirror: Mirror, household: str, quota: Quota | None) -> None:
        entry = self._listing(listing_id)
        if mirror.ver > entry["ver"]:
            entry["ver"], entry["avail"] = mirror.ver, mirror.available
        if household and quota is not None:
            ver, _ = entry["hq"].get(household, (-1, 0))
            if quota.ver > ver:
                entry["hq"][household] = (quota.ver, quota.units)

    def _drop(self, hold_id: str) -> Record:
        record = self._holds.pop(hold_id)
        entry = self._listing(record["listing_id"])
        quantity, household = int(record["quantity"]), record["household"]
        entry["held"] -= quantity
        entry["hh"][household] = entry["hh"].get(household, 0) - quantity
        if entry["hh"][household] <= 0:
            del entry["hh"][household]
        own = f"{record['by']}|{record['person_id']}"
        if entry["own"].get(own) == hold_id:
            del entry["own"][own]
        return record

    def hold(self, record: Record, mirror: Mirror, quota: Quota, limit: int) -> Outcome:
        with self._lock:
            listing_id, household = record["listing_id"], record["household"]
            self._sync(listing_id, mirror, household, quota)
            entry = self._listing(listing_id)
            own = f"{record['by']}|{record['person_id']}"
            earlier = self._holds.get(entry["own"].get(own, ""))
            if earlier is not None and earlier["status"] != HELD:
                earlier = None
            back = int(earlier["quantity"]) if earlier else 0
            quantity = int(record["quantity"])
            household_held = entry["hh"].get(household, 0)
            if earlier is not None and earlier["household"] == household:
                household_held -= back
            for_household = limit - entry["hq"].get(household, (0, 0))[1] - household_held
            if quantity > for_household:
                return Outcome("over", max(0, for_household))
            left = entry["avail"] - entry["held"] + back
            if left <= 0:
                return Outcome("sold_out", 0)
            if quantity > left:
                return Outcome("not_enough", left)
            released = ""
            if earlier is not None:
                released = earlier["id"]
                self._drop(released)
            stored = dict(record, status=HELD)
            self._holds[record["id"]] = stored
            entry["held"] += quantity
            entry["hh"][household] = entry["hh"].get(household, 0) + quantity
            entry["own"][own] = record["id"]
            return Outcome("ok", left - quantity, released)

    def get(self, hold_id: str) -> Record | None:
        with self._lock:
            record = self._holds.get(hold_id)
            return dict(record) if record else None

    def take(self, hold_id: str, actor: str, now: float, grace: float) -> tuple[str, Record | None]:
        with self._lock:
            record = self._holds.get(hold_id)
            if record is None:
                return "gone", None
            if actor not in (record["by"], record["person_id"]):
                return "not_yours", None
            if record["status"] == HELD:
                if now >= float(record["expires"]):
                    return "lapsed", None
                record["status"] = CONFIRMING
                record["until"] = now + grace
            return "ok", dict(record)

    def settle(
        self, hold_id: str, listing_id: str, mirror: Mirror, household: str, quota: Quota
    ) -> None:
        with self._lock:
            if hold_id in self._holds:
                self._drop(hold_id)
            self._sync(listing_id, mirror, household, quota)

    def release(
        self, hold_id: str, actor: str = "", *, due_by: float | None = None, any_state: bool = False
    ) -> Record | None:
        with self._lock:
            record = self._holds.get(hold_id)
            if record is None or (record["status"] != HELD and not any_state):
                return None
            if actor and actor not in (record["by"], record["person_id"]):
                raise PermissionError(hold_id)
            if due_by is not None and _deadline(record) > due_by:
                return None
            return self._drop(hold_id)

    def due(self, now: float, limit: int = 500) -> list[Record]:
        with self._lock:
            late = [dict(r) for r in self._holds.values() if float(r["expires"]) <= now]
        return sorted(late, key=lambda r: float(r["expires"]))[:limit]

    def sync(
        self, listing_id: str, mirror: Mirror, household: str = "", quota: Quota | None = None
    ) -> None:
        with self._lock:
            self._sync(listing_id, mirror, household, quota)

    def held(self, listing_id: str) -> int:
        with self._lock:
            return int(self._listing(listing_id)["held"])

    def holds(self) -> list[Record]:
        with self._lock:
            return [dict(r) for r in self._holds.values()]

    def census(self, listing_id: str) -> tuple[int, list[Record]]:
        with self._lock:
            mine = [dict(r) for r in self._holds.values() if r["listing_id"] == listing_id]
            return int(self._listing(listing_id)["held"]), mine

    def timer_noted(self, listing_id: str, due: str) -> bool:
        with self._lock:
            return (listing_id, due) in self._timers

    def note_timer(self, listing_id: str, due: str, seconds: int) -> None:
        with self._lock:
            self._timers.add((listing_id, due))


def _deadline(record: Record) -> float:
    """When a hold is due to lapse: its time, or the end of the grace if later once confirming."""
    if record.get("status") == CONFIRMING:
        return max(float(record["expires"]), float(record.get("until") or 0))
    return float(record["expires"])


# -- in Redis ---------------------------------------------------------------------------------

_PRELUDE = """
local HOLDS, EXPIRY = 'stock:holds', 'stock:expiry'
local function L(listing) return 'stock:l:' .. listing end
local function num(value) return tonumber(value or '0') or 0 end
local function sync(listing, ver, avail, household, qver, qunits)
  local key = L(listing)
  if tonumber(ver) > tonumber(redis.call('HGET', key, 'ver') or '-1') then
    redis.call('HSET', key, 'ver', ver, 'avail', avail)
  end
  if household ~= '' and tonumber(qver) > tonumber(redis.call('HGET', key, 'hqv:' .. household) or '-1') then
    redis.call('HSET', key, 'hqv:' .. household, qver, 'hq:' .. household, qunits)
  end
end
local function drop(id, rec)
  local key = L(rec.listing_id)
  redis.call('HDEL', HOLDS, id)
  redis.call('ZREM', EXPIRY, id)
  redis.call('HINCRBY', key, 'held', -rec.quantity)
  if redis.call('HINCRBY', key, 'hh:' .. rec.household, -rec.quantity) <= 0 then
    redis.call('HDEL', key, 'hh:' .. rec.household)
  end
  local own = 'own:' .. rec.by .. '|' .. rec.person_id
  if redis.call('HGET', key, own) == id then redis.call('HDEL', key, own) end
end
"""

_HOLD = (
    _PRELUDE
    + """
-- ARGV: the record (JSON, status held), its id, listing, household, quantity, by, person,
-- expires; then the store's ver and available, the household's ver and units, the limit
local id, listing, household = ARGV[2], ARGV[3], ARGV[4]
local quantity, limit = tonumber(ARGV[5]), tonumber(ARGV[13])
local key = L(listing)
sync(listing, ARGV[9], ARGV[10], household, ARGV[11], ARGV[12])
local own = 'own:' .. ARGV[6] .. '|' .. ARGV[7]
local earlier_id = redis.call('HGET', key, own)
local earlier = nil
if earlier_id then
  local raw = redis.call('HGET', HOLDS, earlier_id)
  if raw then earlier = cjson.decode(raw) end
  if earlier and earlier.status ~= 'held' then earlier = nil end
end
local back = 0
if earlier then back = earlier.quantity end
local household_held = num(redis.call('HGET', key, 'hh:' .. household))
if earlier and earlier.household == household then household_held = household_held - back end
local for_household = limit - num(redis.call('HGET', key, 'hq:' .. household)) - household_held
if quantity > for_household then return {'over', math.max(0, for_household), ''} end
local left = num(redis.call('HGET', key, 'avail')) - num(redis.call('HGET', key, 'held')) + back
if left <= 0 then return {'sold_out', 0, ''} end
if quantity > left then return {'not_enough', left, ''} end
local released = ''
if earlier then
  released = earlier_id
  drop(earlier_id, earlier)
end
redis.call('HSET', HOLDS, id, ARGV[1])
redis.call('ZADD', EXPIRY, ARGV[8], id)
redis.call('HINCRBY', key, 'held', quantity)
redis.call('HINCRBY', key, 'hh:' .. household, quantity)
redis.call('HSET', key, own, id)
return {'ok', left - quantity, released}
"""
)

_TAKE = """
local raw = redis.call('HGET', 'stock:holds', ARGV[1])
if not raw then return {'gone', ''} end
local rec = cjson.decode(raw)
if rec.by ~= ARGV[2] and rec.person_id ~= ARGV[2] then return {'not_yours', ''} end
if rec.status == 'held' then
  if tonumber(ARGV[3]) >= rec.expires then return {'lapsed', ''} end
  rec.status = 'confirming'
  rec['until'] = tonumber(ARGV[3]) + tonumber(ARGV[4])
  raw = cjson.encode(rec)
  redis.call('HSET', 'stock:holds', ARGV[1], raw)
end
return {'ok', raw}
"""

_SETTLE = (
    _PRELUDE
    + """
local raw = redis.call('HGET', HOLDS, ARGV[1])
if raw then drop(ARGV[1], cjson.decode(raw)) end
sync(ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7])
return 1
"""
)

_RELEASE = (
    _PRELUDE
    + """
local raw = redis.call('HGET', HOLDS, ARGV[1])
if not raw then return false end
local rec = cjson.decode(raw)
if rec.status ~= 'held' and ARGV[4] ~= '1' then return false end
if ARGV[2] ~= '' and rec.by ~= ARGV[2] and rec.person_id ~= ARGV[2] then return 'not_yours' end
if ARGV[3] ~= '' then
  local deadline = rec.expires
  if rec.status == 'confirming' then deadline = math.max(rec.expires, rec['until']) end
  if deadline > tonumber(ARGV[3]) then return false end
end
drop(ARGV[1], rec)
return raw
"""
)

_SYNC = (
    _PRELUDE
    + """
sync(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
return 1
"""
)

_DUE = """
local ids = redis.call('ZRANGEBYSCORE', 'stock:expiry', '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  local raw = redis.call('HGET', 'stock:holds', id)
  if raw then table.insert(out, raw) else redis.call('ZREM', 'stock:expiry', id) end
end
return out
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisCounter:
    """The counter in Redis at ``url``: every step one Lua script (see the module's doc)."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        self._hold = self._redis.register_script(_HOLD)
        self._take = self._redis.register_script(_TAKE)
        self._settle = self._redis.register_script(_SETTLE)
        self._release = self._redis.register_script(_RELEASE)
        self._sync = self._redis.register_script(_SYNC)
        self._due = self._redis.register_script(_DUE)
        self._timers: set[tuple[str, str]] = set()
        """Notes seen by this process: a timer in the store stays there, so they never go stale."""

    def hold(self, record: Record, mirror: Mirror, quota: Quota, limit: int) -> Outcome:
        args: list[str | int] = [
            _dump(dict(record, status=HELD)),  # stored as it is: the script decodes no JSON
            record["id"],
            record["listing_id"],
            record["household"],
            int(record["quantity"]),
            record["by"],
            record["person_id"],
            repr(float(record["expires"])),
            *mirror,
            *quota,
            limit,
        ]
        kind, left, released = self._hold(args=args)
        return Outcome(_text(kind), int(left), _text(released))

    def get(self, hold_id: str) -> Record | None:
        raw = self._redis.hget("stock:holds", hold_id)
        return _load(raw) if raw else None

    def take(self, hold_id: str, actor: str, now: float, grace: float) -> tuple[str, Record | None]:
        kind, raw = self._take(args=[hold_id, actor, repr(now), repr(grace)])
        return (_text(kind), _load(raw)) if _text(kind) == "ok" else (_text(kind), None)

    def settle(
        self, hold_id: str, listing_id: str, mirror: Mirror, household: str, quota: Quota
    ) -> None:
        args: list[str | int] = [hold_id, listing_id, *mirror, household, *quota]
        self._settle(args=args)

    def release(
        self, hold_id: str, actor: str = "", *, due_by: float | None = None, any_state: bool = False
    ) -> Record | None:
        due = "" if due_by is None else repr(due_by)
        raw = self._release(args=[hold_id, actor, due, "1" if any_state else "0"])
        if raw is None:
            return None
        if _text(raw) == "not_yours":
            raise PermissionError(hold_id)
        return _load(raw)

    def due(self, now: float, limit: int = 500) -> list[Record]:
        return [_load(raw) for raw in self._due(args=[repr(now), limit])]

    def sync(
        self, listing_id: str, mirror: Mirror, household: str = "", quota: Quota | None = None
    ) -> None:
        quota = quota or Quota(-1, 0)
        args: list[str | int] = [listing_id, *mirror, household, *quota]
        self._sync(args=args)

    def held(self, listing_id: str) -> int:
        return int(self._redis.hget(f"stock:l:{listing_id}", "held") or 0)

    def holds(self) -> list[Record]:
        return [_load(raw) for raw in self._redis.hvals("stock:holds")]

    def census(self, listing_id: str) -> tuple[int, list[Record]]:
        with self._redis.pipeline(transaction=True) as both:
            both.hget(f"stock:l:{listing_id}", "held")
            both.hvals("stock:holds")
            held, raws = both.execute()
        mine = [r for r in map(_load, raws) if r["listing_id"] == listing_id]
        return int(held or 0), mine

    def timer_noted(self, listing_id: str, due: str) -> bool:
        if (listing_id, due) in self._timers:
            return True
        if not self._redis.exists(f"stock:t:{listing_id}:{due}"):
            return False
        self._timers.add((listing_id, due))
        return True

    def note_timer(self, listing_id: str, due: str, seconds: int) -> None:
        self._redis.set(f"stock:t:{listing_id}:{due}", "1", ex=max(1, seconds))
        if len(self._timers) > 10_000:  # minutes long past
            self._timers.clear()
        self._timers.add((listing_id, due))

    def close(self) -> None:
        """Close the connections."""
        self._redis.close()


def _dump(record: Record) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _load(raw: Any) -> Record:
    loaded: Record = json.loads(raw)
    return loaded
