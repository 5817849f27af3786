"""Action buttons: one small codec per kind, shared by the side that builds and the side that reads.

An action button is a press that is not an answer to the current question: an
offer to a volunteer, a coordinator's approval, a step of a task. Its value is
``a:<action>:<part>:<part>…`` (``a:offer:accept:of-1`` …); the engine routes on
``<action>`` and gives the parts after it to that action, which reads them with
the codec of its kind (:func:`assistant.conversation.flow.pressed`). The
service or message that builds the button calls ``encode()`` on the same
codec, so the grammar lives here once, never as an f-string in one module and
positional splits in another.

Values are stored in chat messages already sent and must keep working:
``encode()`` gives exactly the values of before, byte for byte. ``parse()``
takes the parts after the action name and returns ``None`` for anything
malformed (wrong count, unknown verb, an empty id, a non-number where stars
go); it never raises. Whether the presser may do it now is checked on the
server by the action, never here.

==============================================  =============================
value                                           codec
==============================================  =============================
``a:offer:accept|decline:<offer>``              :class:`OfferAnswer`
``a:task:<step>:<task>[:<reason>]``             :class:`TaskStep`
``a:assign:<task>:<volunteer>``                 :class:`Assign`
``a:vol:yes|no:<person>``                       :class:`VolunteerDecision`
``a:care:approve|decline:<booking>``            :class:`CareDecision`
``a:care:cancel|cancelyes|move|stars|notdone:<booking>``  :class:`CareChange`
``a:care:rate:<booking>:<stars>``               :class:`Rating`
``a:care:fu:<booking>:<answer>``                :class:`FollowUpAnswer`
``a:proxy:yes|no:<link>``                       :class:`ProxyDecision`
``a:guess:<intent>``                            :class:`Guess`
``a:rpt:<verb>:<case>[:<arg>…]``                :class:`ReportButton`
``a:lang:<code>``                               :class:`Language`
``a:notice:ack|cancel|cancelyes:<notice>``     :class:`NoticeButton`
``a:knock:<verb>:<round>:<n>``                  :class:`KnockCheck`
``a:act:cancel|cancelyes|present|absent:<id>``  :class:`ActivityButton`
``a:unlink:<token>``                            :class:`Unlink`
==============================================  =============================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Protocol, TypeVar

from assistant.domain.numbers import is_digits

PREFIX = "a:"
SEP = ":"


def value(action: str, *parts: str) -> str:
    """``a:<action>:<part>…``; a part holding the separator (or nothing) is a bug of the caller."""
    for part in parts:
        if not part or SEP in part:
            raise ValueError(f"a button part must be a non-empty token without {SEP!r}")
    return PREFIX + SEP.join((action, *parts))


def split(value: str) -> tuple[str, list[str]] | None:
    """An action button's name and parts (``a:offer:accept:x`` → ``("offer", ["accept", "x"])``)."""
    if not value.startswith(PREFIX):
        return None
    name, *parts = value[len(PREFIX) :].split(SEP)
    return name, parts


def _tokens(parts: Sequence[str], count: int) -> bool:
    """Exactly ``count`` parts, none of them empty."""
    return len(parts) == count and all(parts)


def _yes_no(word: str) -> bool | None:
    return {"yes": True, "no": False}.get(word)


E = TypeVar("E", bound=StrEnum)


def _member(kind: type[E], word: str) -> E | None:
    """The member of ``kind`` whose value is ``word``, or ``None``."""
    try:
        return kind(word)
    except ValueError:
        return None


# -- dispatch -------------------------------------------------------------------------------


class OfferVerb(StrEnum):
    """What a volunteer says to an offer."""

    ACCEPT = "accept"
    DECLINE = "decline"


@dataclass(frozen=True)
class OfferAnswer:
    """``a:offer:accept|decline:<offer>``: a volunteer's answer to an offer."""

    ACTION: ClassVar[str] = "offer"
    verb: OfferVerb
    offer_id: str

    def encode(self) -> str:
        return value(self.ACTION, self.verb, self.offer_id)

    @classmethod
    def parse(cls, parts: Sequence[str]) -> OfferAnswer | None:
        verb = _member(OfferVerb, parts[0]) if _tokens(parts, 2) else None
        return None if verb is None else cls(verb, parts[1])


class StepVerb(StrEnum):
    """The buttons on an assigned (or escalated) task.

    ``fail``, ``drop`` and ``keep`` lead to a question ("why?", "are you
    sure?", "kept"); ``failwhy`` carries the reason and ``dropyes`` confirms.
    """

    ON_WAY = "on_way"
    ARRIVED = "arrived"
    DONE = "done"
    FAIL = "fail"
    FAIL_WHY = "failwhy"
    DROP = "drop"
    DROP_YES = "dropyes"
    KEEP = "keep"
    HELP = "help"
    TAKE = "take"


@dataclass(frozen=True)
class TaskStep:
    """``a:task:<step>:<task>`` (``a:task:failwhy:<task>:<reason>``): a step of a task."""

    ACTION: ClassVar[str] = "task"
    verb: StepVerb
    task_id: str
    reason: str = ""
    """Only with ``failwhy``: one of the dispatch context's fail reasons (checked there)."""

    def encode(self) -> str:
        extra = (self.reason,) if self.verb is StepVerb.FAIL_WHY else ()
        return value(self.ACTION, self.verb, self.task_id, *extra)

    @classmethod
    def parse(cls, parts: Sequence[str]) -> TaskStep | None:
        verb = _member(StepVerb, parts[0]) if parts else None
        if verb is None:
            return None
        if verb is StepVerb.FAIL_WHY:
            return cls(verb, parts[1], parts[2]) if _tokens(parts, 3) else None
        return cls(verb, parts[1]) if _tokens(parts, 2) else None


@dataclass(frozen=True)
class Assign:
    """``a:assign:<task>:<volunteer>``: a coordinator asks one volunteer after escalation."""

    ACTION: ClassVar[str] = "assign"
    task_id: str
    volunteer_id: str

    def encode(self) -> str:
        return value(self.ACTION, self.task_id, self.volunteer_id)

    @classmethod
    def parse(cls, parts: Sequence[str]) -> Assign | None:
        return cls(parts[0], parts[1]) if _tokens(parts, 2) else None


# -- people ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VolunteerDecision:
    """``a:vol:yes|no:<person>``: a coordinator approves or declines an application."""

    ACTION: ClassVar[str] = "vol"
    approve: bool
    person_id: str

    def encode(self) -> str:
        return value(self.ACTION, "yes" if self.approve else "no", self.person_id)

    @classmethod
    def parse(cls, parts: Sequence[str]) -> VolunteerDecision | None:
        approve = _yes_no(parts[0]) if _tokens(parts, 2) else None
        return None if approve is None else cls(approve, parts[1])


@dataclass(frozen=True)
class ProxyDecision:
    """``a:proxy:yes|no:<link>``: a coordinator approves or refuses a family helper."""

    ACTION: ClassVar[str] = "proxy"
    approve: bool
    link_id: str

    def encode(self) -> str:
        return value(self.ACTION, "yes" if self.approve else "no", self.link_id)

    @classmethod
    def parse(cls, parts: Sequence[str]) -> ProxyDecision | None:
        approve = _yes_no(parts[0]) if _tokens(parts, 2) else None
        return None if approve is None else cls(approve, parts[1])


# -- care -----------------------------------------------------------------------------------

CARE = "care"
"""The action of every care button; :func:`care_button` reads them all."""


@dataclass(frozen=True)
class CareDecision:
    """``a:care:approve|decline:<booking>``: a coordinator decides on an escort booking."""

    ACTION: ClassVar[str] = CARE
    approve: bool
    booking_id: str

    @property
    def verb(self) -> str:
        return "approve" if self.approve else "decline"

    def encode(self) -> str:
        return value(self.ACTION, self.verb, self.booking_id)

    @classmethod
    def parse(cls, parts: Sequence[str]) -> CareDecision | None:
        if not _tokens(parts, 2) or parts[0] not in ("approve", "decline"):
            return None
        return cls(parts[0] == "approve", parts[1])


class ChangeVerb(StrEnum):
    """What the /mine buttons and the rating invitation ask for."""

    CANCEL = "cancel"
    CANCEL_YES = "cancelyes"
    MOVE = "move"
    STARS = "stars"
    NOT_DONE = "notdone"


@dataclass(frozen=True)
class CareChange:
    """``a:care:cancel|cancelyes|move|stars|notdone:<booking>``: change or rate a booking."""

    ACTION: ClassVar[str] = CARE
    verb: ChangeVerb
    booking_id: str

    def encode(self) -> str:
        return value(self.ACTION, self.verb, self.booking_id)

    @classmethod
    def parse(cls, parts: Sequence[str]) -> CareChange | None:
        verb = _member(ChangeVerb, parts[0]) if _tokens(parts, 2) else None
        return None if verb is None else cls(verb, parts[1])


@dataclass(frozen=True)
class Rating:
    """``a:care:rate:<booking>:<stars>``: the stars a resident gives a visit."""

    ACTION: ClassVar[str] = CARE
    VERB: ClassVar[str] = "rate"
    booking_id: str
    stars: int

    def encode(self) -> str:
        return value(self.ACTION, self.VERB, self.booking_id, str(self.stars))

    @classmethod
    def parse(cls, parts: Sequence[str]) -> Rating | None:
        if not _tokens(parts, 3) or parts[0] != cls.VERB or not is_digits(parts[2]):
            return None
        return cls(parts[1], int(parts[2]))


@dataclass(frozen=True)
class FollowUpAnswer:
    """``a:care:fu:<booking>:<answer>``: how the resident is, the day after the visit."""

    ACTION: ClassVar[str] = CARE
    VERB: ClassVar[str] = "fu"
    booking_id: str
    answer: str
    """One of the follow-up answers of the care context (checked there)."""

    def encode(self) -> str:
        return value(self.ACTION, self.VERB, self.booking_id, self.answer)

    @classmethod
    def parse(cls, parts: Sequence[str]) -> FollowUpAnswer | None:
        if not _tokens(parts, 3) or parts[0] != cls.VERB:
            return None
        return cls(parts[1], parts[2])


class CareButton(Protocol):
    """Any care button: :class:`CareDecision`, :class:`CareChange`, :class:`Rating`, :class:`FollowUpAnswer`."""

    @property
    def booking_id(self) -> str: ...

    def encode(self) -> str: ...


@dataclass(frozen=True)
class MinePage:
    """``a:mine:<page>``: another page of /mine (0 is the first)."""

    ACTION: ClassVar[str] = "mine"
    number: int

    def encode(self) -> str:
        return value(self.ACTION, str(self.number))

    @classmethod
    def parse(cls, parts: Sequence[str]) -> MinePage | None:
        if not _tokens(parts, 1) or not is_digits(parts[0]) or len(parts[0]) > 4:
            return None
        return cls(int(parts[0]))


def care_button(parts: Sequence[str]) -> CareButton | None:
    """Whichever care button these parts are, or ``None``."""
    for codec in (CareDecision, CareChange, Rating, FollowUpAnswer):
        found = codec.parse(parts)
        if found is not None:
            return found
    return None


# -- the conversation itself ----------------------------------------------------------------


@dataclass(frozen=True)
class Guess:
    """``a:guess:<intent>``: "do you mean …?" after words typed outside a flow."""

    ACTION: ClassVar[str] = "guess"
    name: str

    def encode(self) -> str:
        return value(self.ACTION, self.name)

    @classmethod
    def parse(cls, parts: Sequence[str]) -> Guess | None:
        return cls(parts[0]) if _tokens(parts, 1) else None


@dataclass(frozen=True)
class Language:
    """``a:lang:<code>``: switch the conversation's language (``zh_CN``, ``en``)."""

    ACTION: ClassVar[str] = "lang"
    code: str

    def encode(self) -> str:
        return value(self.ACTION, self.code)

    @classmethod
    def parse(cls, parts: Sequence[str]) -> Language | None:
        return cls(parts[0]) if _tokens(parts, 1) else None


# -- orders (local produce) -----------------------------------------------------------------
#
# ``a:shop:item:<listing>``, ``a:shop:hold:<listing>:<quantity>``, ``a:shop:claim|drop:<hold>``
# (:class:`ShopButton`); ``a:ord:<verb>:<order>[:<arg>]`` (:class:`OrderStep`);
# ``a:lst:<verb>:<listing>`` (:class:`ListingStep`); ``a:sup:<verb>:<id>`` (:class:`SupervisionStep`).

SHOP = "shop"
ORDER = "ord"
LISTING = "lst"
SUPERVISION = "sup"


class ShopVerb(StrEnum):
    """What a shop button does: show an item, hold a quantity, claim or drop an offered hold,
    wait for a sold-out item."""

    ITEM = "item"
    HOLD = "hold"
    CLAIM = "claim"
    DROP = "drop"
    WAIT = "wait"


_COUNTED = (ShopVerb.HOLD, ShopVerb.WAIT)
"""The shop verbs whose button carries a quantity."""


@dataclass(frozen=True)
class ShopButton:
    """``a:shop:item:<listing>`` · ``a:shop:hold|wait:<listing>:<quantity>`` ·
    ``a:shop:claim|drop:<hold>``."""

    ACTION: ClassVar[str] = SHOP
    verb: ShopVerb
    ref: str
    """The listing (item, hold) or the hold (claim, drop)."""
    quantity: int = 0
    """Only with ``hold`` and ``wait``: a whole number from 1 (checked again on the server)."""

    def encode(self) -> str:
        extra = (str(self.quantity),) if self.verb in _COUNTED else ()
        return value(self.ACTION, self.verb, self.ref, *extra)

    @classmethod
    def parse(cls, parts: Sequence[str]) -> ShopButton | None:
        verb = _member(ShopVerb, parts[0]) if parts else None
        if verb is None:
            return None
        if verb in _COUNTED:
            if not _tokens(parts, 3) or not is_digits(parts[2]) or len(parts[2]) > 4:
                return None
            return cls(verb, parts[1], int(parts[2]))
        return cls(verb, parts[1]) if _tokens(parts, 2) else None


class OrderVerb(StrEnum):
    """The buttons on an order: the resident's, the vendor's and the delivery volunteer's."""

    CANCEL = "cancel"
    CANCEL_YES = "cancelyes"
    PACK = "pack"
    HAND = "hand"
    DONE = "done"
    PAY = "pay"
    GIVE_UP = "giveup"
    DELIVERED = "dlv"
    NOT_HOME = "nothome"
    RECEIVED = "recv"
    FOLLOW_UP = "fu"


@dataclass(frozen=True)
class OrderStep:
    """``a:ord:<verb>:<order>`` (``a:ord:fu:<order>:<answer>``): a step of an order."""

    ACTION: ClassVar[str] = ORDER
    verb: OrderVerb
    order_id: str
    arg: str = ""
    """Only with ``fu``: the follow-up answer (checked by the orders context)."""

    def encode(self) -> str:
        extra = (self.arg,) if self.verb is OrderVerb.FOLLOW_UP else ()
        return value(self.ACTION, self.verb, self.order_id, *extra)

    @classmethod
    def parse(cls, parts: Sequence[str]) -> OrderStep | None:
        verb = _member(OrderVerb, parts[0]) if parts else None
        if verb is None:
            return None
        if verb is OrderVerb.FOLLOW_UP:
            return cls(verb, parts[1], parts[2]) if _tokens(parts, 3) else None
        return cls(verb, parts[1]) if _tokens(parts, 2) else None


class ListingVerb(StrEnum):
    """What staff do to a listing from /vendor or /onstream."""

    OPEN = "open"
    PAUSE = "pause"
    RESUME = "resume"
    STOCK = "stock"
    END = "end"
    END_YES = "endyes"
    ON_STREAM = "onstream"


@dataclass(frozen=True)
class ListingStep:
    """``a:lst:<verb>:<listing>``: staff change a listing (checked again on the server)."""

    ACTION: ClassVar[str] = LISTING
    verb: ListingVerb
    listing_id: str

    def encode(self) -> str:
        return value(self.ACTION, self.verb, self.listing_id)

    @classmethod
    def parse(cls, parts: Sequence[str]) -> ListingStep | None:
        verb = _member(ListingVerb, parts[0]) if _tokens(parts, 2) else None
        return None if verb is None else cls(verb, parts[1])


class SupervisionVerb(StrEnum):
    """The supervision line's buttons: complain about an order, a coordinator answers."""

    ORDER = "order"
    ANSWER = "answer"


@dataclass(frozen=True)
class SupervisionStep:
    """``a:sup:order:<order>`` (complain about it) · ``a:sup:answer:<complaint>``."""

    ACTION: ClassVar[str] = SUPERVISION
    verb: SupervisionVerb
    ref: str

    def encode(self) -> str:
        return value(self.ACTION, self.verb, self.ref)

    @classmethod
    def parse(cls, parts: Sequence[str]) -> SupervisionStep | None:
        verb = _member(SupervisionVerb, parts[0]) if _tokens(parts, 2) else None
        return None if verb is None else cls(verb, parts[1])


# -- reports --------------------------------------------------------------------------------

REPORT = "rpt"
"""The action of every reports button; :meth:`ReportButton.parse` reads them all."""


class ReportVerb(StrEnum):
    """What a reports button asks for, and how many parts follow the case id.

    ``out`` (the patrol volunteer's outcome), ``chk`` (a follower's "is it
    resolved?": round and answer), ``bad`` (a coordinator marks the reporter of
    report ``n`` unreliable), ``go`` / ``drop`` (a coordinator dispatches or
    dismisses a held case), ``again`` (dispatch once more), ``close``.
    """

    OUTCOME = "out"
    CHECK = "chk"
    UNRELIABLE = "bad"
    RELEASE = "go"
    DISMISS = "drop"
    AGAIN = "again"
    CLOSE = "close"


REPORT_ARITY = {ReportVerb.OUTCOME: 1, ReportVerb.CHECK: 2, ReportVerb.UNRELIABLE: 1}


@dataclass(frozen=True)
class ReportButton:
    """``a:rpt:<verb>:<case>[:<arg>…]``: a button on a case (arguments checked by the reports context)."""

    ACTION: ClassVar[str] = REPORT
    verb: ReportVerb
    case_id: str
    args: tuple[str, ...] = ()

    def encode(self) -> str:
        return value(self.ACTION, self.verb, self.case_id, *self.args)

    @classmethod
    def parse(cls, parts: Sequence[str]) -> ReportButton | None:
        verb = _member(ReportVerb, parts[0]) if parts else None
        if verb is None or not _tokens(parts, 2 + REPORT_ARITY.get(verb, 0)):
            return None
        return cls(verb, parts[1], tuple(parts[2:]))


# -- notices and door-knock rounds (issue 12) -----------------------------------------------


class NoticeVerb(StrEnum):
    """What a notice's buttons ask: "收到", or the author's cancel (and its "sure?")."""

    ACK = "ack"
    CANCEL = "cancel"
    CANCEL_YES = "cancelyes"


@dataclass(frozen=True)
class NoticeButton:
    """``a:notice:ack|cancel|cancelyes:<notice>``: acknowledge a notice, or stop it going out."""

    ACTION: ClassVar[str] = "notice"
    verb: NoticeVerb
    notice_id: str

    def encode(self) -> str:
        return value(self.ACTION, self.verb, self.notice_id)

    @classmethod
    def parse(cls, parts: Sequence[str]) -> NoticeButton | None:
        verb = _member(NoticeVerb, parts[0]) if _tokens(parts, 2) else None
        return None if verb is None else cls(verb, parts[1])


class KnockVerb(StrEnum):
    """What a volunteer records at a door; ``help`` asks which help (``hcare`` …)."""

    WELL = "well"
    AWAY = "away"
    HELP = "help"
    TOLD = "told"
    HELP_CARE = "hcare"
    HELP_PHARMACY = "hpharm"
    HELP_SUPPLIES = "hsupply"


@dataclass(frozen=True)
class KnockCheck:
    """``a:knock:<verb>:<round>:<household number>``: one check of a door-knock round."""

    ACTION: ClassVar[str] = "knock"
    verb: KnockVerb
    round_id: str
    index: int

    def encode(self) -> str:
        return value(self.ACTION, self.verb, self.round_id, str(self.index))

    @classmethod
    def parse(cls, parts: Sequence[str]) -> KnockCheck | None:
        if not _tokens(parts, 3) or not is_digits(parts[2]) or len(parts[2]) > 4:
            return None
        verb = _member(KnockVerb, parts[0])
        return None if verb is None else cls(verb, parts[1], int(parts[2]))


# -- activities and sign-ups (issue 12) -------------------------------------------------------


class ActivityVerb(StrEnum):
    """What the activity buttons ask: cancel a sign-up (and its "sure?"), mark attendance, paid."""

    CANCEL = "cancel"
    CANCEL_YES = "cancelyes"
    PRESENT = "present"
    ABSENT = "absent"
    PAID = "paid"


@dataclass(frozen=True)
class ActivityButton:
    """``a:act:cancel|cancelyes|present|absent|paid:<sign-up>``: change or mark a sign-up."""

    ACTION: ClassVar[str] = "act"
    verb: ActivityVerb
    ref: str

    def encode(self) -> str:
        return value(self.ACTION, self.verb, self.ref)

    @classmethod
    def parse(cls, parts: Sequence[str]) -> ActivityButton | None:
        verb = _member(ActivityVerb, parts[0]) if _tokens(parts, 2) else None
        return None if verb is None else cls(verb, parts[1])


# -- one person on two networks (issue 11) ----------------------------------------------------


@dataclass(frozen=True)
class Unlink:
    """``a:unlink:<token>``: take one of the presser's chat addresses away (a token, not the address)."""

    ACTION: ClassVar[str] = "unlink"
    token: str

    def encode(self) -> str:
        return value(self.ACTION, self.token)

    @classmethod
    def parse(cls, parts: Sequence[str]) -> Unlink | None:
        return cls(parts[0]) if _tokens(parts, 1) else None
