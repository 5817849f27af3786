"""A local fake of the Telegram Bot API, spoken to over real HTTP.

It implements what the channel uses (getMe, getUpdates with offset and long
polling, setWebhook/deleteWebhook, sendMessage, sendPhoto, sendVoice,
editMessageText, editMessageCaption, editMessageReplyMarkup,
answerCallbackQuery, getFile, setMyCommands) and Telegram's flood limits:
about 30 messages/s per bot, 1/s per chat and 20/min per group, each with a
short burst allowance, answered with 429 and ``retry_after`` when exceeded.

Files are uploaded as Telegram takes them: a multipart POST whose file part is
named after the parameter (``photo``), as PTB sends an ``InputFile``. Each
upload is kept in :attr:`FakeBotApi.uploads` with its bytes and gets a new
``file_id``, which a later ``sendPhoto`` may name instead; ``getFile`` and the
file URL give the bytes back. Captions longer than 1,024 characters and texts
longer than 4,096 are refused (400) as Telegram refuses them, and so is
editing the text of a photo or the caption of a text.

Tests play the users: :meth:`FakeBotApi.send_text`, :meth:`press`,
:meth:`send_location` … queue updates (or POST them to the bot's webhook), and
:attr:`FakeBotApi.messages` holds every message as the user would now see it.
:meth:`FakeBotApi.wait_until` waits for a condition without sleeping.

:meth:`FakeBotApi.stall` makes it a Bot API that accepts connections and never
answers the chosen methods (every send and edit by default), as a server does
whose network broke half way; :meth:`FakeBotApi.unstall` heals it.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import html
import itertools
import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, web
from aiohttp.web_request import FileField

Json = dict[str, Any]
BOT_ID = 4242
SEND_METHODS = ("sendMessage", "sendPhoto", "sendVoice")
EDIT_METHODS = ("editMessageText", "editMessageCaption", "editMessageReplyMarkup")
MAX_TEXT = 4096
MAX_CAPTION = 1024


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> Json:
        """The JSON Telegram answers with."""
        body: Json = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


@dataclass
class FloodLimits:
    """Telegram's flood limits as the fake enforces them (GCRA buckets with bursts)."""

    bot_per_second: float = 30.0
    bot_burst: int = 10
    chat_per_second: float = 1.0
    chat_burst: int = 4
    group_per_minute: float = 20.0
    group_burst: int = 5
    retry_after: int | None = None  # fixed answer; None: the time until a slot frees
    enabled: bool = True


@dataclass
class Bucket:
    """One GCRA bucket: an emission interval and a burst tolerance."""

    interval: float
    burst: int
    tat: float = 0.0

    def take(self, now: float) -> float:
        """Take a slot; return 0, or the seconds to wait (nothing taken)."""
        tolerance = self.interval * (self.burst - 1)
        tat = max(self.tat, now)
        wait = tat - tolerance - now
        if wait > 0:
            return wait
        self.tat = tat + self.interval
        return 0.0


@dataclass
class Uploaded:
    """One file that came in a multipart request."""

    method: str
    field: str
    filename: str
    content_type: str
    data: bytes
    file_id: str


@dataclass
class Sent:
    """One call that created or changed a message, as recorded."""

    method: str
    chat_id: int
    message_id: int
    text: str
    at: float
    markup: Json | None = None
    params: Json = field(default_factory=dict)


class FakeBotApi:
    """The fake server: start it, point the bot's ``base_url`` at it, play users."""

    def __init__(
        self,
        token: str = "4242:TEST-TOKEN",
        username: str = "CentreTestBot",
        limits: FloodLimits | None = None,
    ) -> None:
        self.token = token
        self.username = username
        self.limits = limits or FloodLimits()
        self.port = 0
        self.me: Json = {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "邻里中心助手",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.chats: dict[int, Json] = {}
        self.updates: list[Json] = []
        self.update_times: dict[int, float] = {}
        self.messages: dict[tuple[int, int], Json] = {}
        self.arrivals: dict[int, list[float]] = {}  # chat → arrival time of each new message
        self._chat_index: dict[int, list[int]] = {}
        self._count_waiters: dict[int, list[tuple[int, asyncio.Future[None]]]] = {}
        self.sent: list[Sent] = []
        self.uploads: list[Uploaded] = []
        self.files: dict[str, bytes] = {}  # file_id → bytes, of uploaded files
        self.calls: list[tuple[str, Json]] = []
        self.answers: list[Json] = []
        self.commands: dict[str, list[Json]] = {}
        self.blocked: set[int] = set()
        self.throttled = 0
        self.webhook: Json = {}
        self.webhook_posts = 0
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._query_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._buckets: dict[str, Bucket] = {}
        self._changed: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self._webhook_queue: asyncio.Queue[Json] | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self.stalled: set[str] = set()  # methods that are never answered
        self.stalls: list[tuple[str, Json]] = []  # calls left hanging, in order
        self._healed: asyncio.Event | None = None

    # -- life ----------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on a free loopback port."""
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.*}", self._file)
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Stop listening."""
        if self._webhook_task is not None:
            self._webhook_task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """What to set as ``[telegram] base_url``."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """What to set as ``[telegram] base_file_url``."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    def stall(self, *methods: str) -> None:
        """Accept these calls (default: every send, edit and callback answer), never answer."""
        self.stalled = set(methods or (*SEND_METHODS, *EDIT_METHODS, "answerCallbackQuery"))
        self._healed = asyncio.Event()

    def unstall(self) -> None:
        """Answer again; calls left hanging are answered as if they failed (HTTP 502)."""
        self.stalled = set()
        if self._healed is not None:
            self._healed.set()

    # -- the people and chats of the simulation ---------------------------------------

    def user(self, uid: int, first_name: str = "林", language_code: str = "zh-hans") -> Json:
        """A Telegram user (and their private chat with the bot)."""
        user = {"id": uid, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        self.chats[uid] = {"id": uid, "type": "private", "first_name": first_name}
        return user

    def group(self, chat_id: int, title: str = "锦绣家园邻里群") -> Json:
        """A group chat (ids are negative)."""
        chat = {"id": chat_id, "type": "supergroup", "title": title}
        self.chats[chat_id] = chat
        return chat

    # -- what users do ---------------------------------------------------------------------

    def send_text(
        self, user: Json, text: str, chat: Json | None = None, reply_to: Json | None = None
    ) -> Json:
        """The user types a message (in their private chat unless ``chat`` is given)."""
        extra: Json = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            extra["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if reply_to is not None:
            extra["reply_to_message"] = reply_to
        return self._message_update(user, chat, extra)

    def send_location(self, user: Json, latitude: float, longitude: float) -> Json:
        """The user shares a location pin."""
        return self._message_update(
            user, None, {"location": {"latitude": latitude, "longitude": longitude}}
        )

    def send_photo(self, user: Json, caption: str = "") -> Json:
        """The user sends a photo (three sizes, like Telegram)."""
        sizes = [
            {"file_id": f"photo-{n}-{w}", "file_unique_id": f"u{n}{w}", "width": w, "height": w}
            for n in [next(self._file_ids)]
            for w in (90, 320, 1280)
        ]
        extra: Json = {"photo": sizes}
        if caption:
            extra["caption"] = caption
        return self._message_update(user, None, extra)

    def send_contact(self, user: Json, phone: str, owner_id: int | None = None) -> Json:
        """The user shares a contact (their own unless ``owner_id`` says otherwise)."""
        contact = {"phone_number": phone, "first_name": user["first_name"]}
        contact["user_id"] = user["id"] if owner_id is None else owner_id
        return self._message_update(user, None, {"contact": contact})

    def send_voice(self, user: Json) -> Json:
        """The user records a voice note."""
        n = next(self._file_ids)
        voice = {"file_id": f"voice-{n}", "file_unique_id": f"v{n}", "duration": 4}
        return self._message_update(user, None, {"voice": voice})

    def send_sticker(self, user: Json) -> Json:
        """The user sends a sticker."""
        sticker = {
            "file_id": "sticker-1",
            "file_unique_id": "s1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return self._message_update(user, None, {"sticker": sticker})

    def send_poll(self, user: Json) -> Json:
        """The user sends a poll."""
        poll = {
            "id": "poll-1",
            "question": "?",
            "options": [
                {"persistent_id": "o1", "text": "a", "voter_count": 0},
                {"persistent_id": "o2", "text": "b", "voter_count": 0},
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
        }
        return self._message_update(user, None, {"poll": poll})

    def edit_text(self, user: Json, message_id: int, text: str) -> Json:
        """The user edits a message they sent earlier."""
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "edit_date": int(time.time()),
            "chat": self.chats[user["id"]],
            "from": user,
            "text": text,
        }
        return self._queue({"edited_message": message})

    def press(self, user: Json, message: Json, label: str) -> Json:
        """The user presses the button labelled ``label`` under ``message``."""
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if button["text"] == label:
                    return self.press_data(user, message, button["callback_data"])
        raise LookupError(f"no button {label!r} under message {message['message_id']}")

    def press_data(self, user: Json, message: Json, data: str) -> Json:
        """A callback query with arbitrary data (a forged or stale press)."""
        query = {
            "id": str(next(self._query_ids)),
            "from": user,
            "chat_instance": f"ci-{message['chat']['id']}",
            "data": data,
            "message": dict(message),
        }
        return self._queue({"callback_query": query})

    def bot_membership(self, user: Json, chat: Json, status: str) -> Json:
        """The bot's membership in ``chat`` changed (``member``, ``left`` or ``kicked``)."""
        old = "left" if status == "member" else "member"

        def member(state: str) -> Json:
            body: Json = {"user": self.me, "status": state}
            if state == "kicked":
                body["until_date"] = 0
            return body

        update = {
            "chat": chat,
            "from": user,
            "date": int(time.time()),
            "old_chat_member": member(old),
            "new_chat_member": member(status),
        }
        return self._queue({"my_chat_member": update})

    def _message_update(self, user: Json, chat: Json | None, extra: Json) -> Json:
        where = chat or self.chats[user["id"]]
        message = {
            "message_id": self._next_message_id(where["id"]),
            "date": int(time.time()),
            "chat": where,
            "from": user,
            **extra,
        }
        return self._queue({"message": message})

    def _queue(self, body: Json) -> Json:
        update = {"update_id": next(self._update_ids), **body}
        self.update_times[update["update_id"]] = time.monotonic()
        if self.webhook.get("url") and self._webhook_queue is not None:
            self._webhook_queue.put_nowait(update)
        else:
            self.updates.append(update)
        self._notify()
        return update

    # -- what tests read ----------------------------------------------------------------

    def chat_messages(self, chat_id: int) -> list[Json]:
        """Every message the bot sent to a chat, as it looks now, oldest first."""
        return [self.messages[(chat_id, mid)] for mid in self._chat_index.get(chat_id, [])]

    def sent_to(self, chat_id: int) -> list[Sent]:
        """Every new message sent to a chat (not edits), in order."""
        return [s for s in self.sent if s.chat_id == chat_id and s.method in SEND_METHODS]

    def last(self, chat_id: int) -> Json:
        """The newest message the bot sent to a chat."""
        messages = self.chat_messages(chat_id)
        if not messages:
            raise LookupError(f"nothing sent to {chat_id}")
        return messages[-1]

    def last_with_buttons(self, chat_id: int) -> Json:
        """A copy of the newest message to a chat that still shows buttons.

        A copy, like the screen of a phone that has not refreshed: pressing it later
        presses what the user saw.
        """
        for message in reversed(self.chat_messages(chat_id)):
            if message.get("reply_markup", {}).get("inline_keyboard"):
                return copy.deepcopy(message)
        raise LookupError(f"no buttons in chat {chat_id}")

    async def wait_until(self, check: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until ``check()`` is truthy; return it (polls, never sleeps blindly)."""
        assert self._changed is not None
        deadline = asyncio.get_running_loop().time() + timeout
        async with self._changed:
            while True:
                value = check()
                if value:
                    return value
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    raise TimeoutError(f"condition not met; last calls: {self.calls[-5:]}")
                with contextlib.suppress(TimeoutError):
                    # Woken by every API call; re-checked every 50 ms for changes elsewhere.
                    await asyncio.wait_for(self._changed.wait(), min(remaining, 0.05))

    async def wait_for_count(self, chat_id: int, count: int, timeout: float = 30.0) -> None:
        """Wait until ``count`` new messages reached a chat (cheap with many waiters)."""
        if len(self.arrivals.get(chat_id, [])) >= count:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._count_waiters.setdefault(chat_id, []).append((count, future))
        await asyncio.wait_for(future, timeout)

    def _arrived(self, chat_id: int) -> None:
        arrived = self.arrivals.setdefault(chat_id, [])
        arrived.append(time.monotonic())
        waiting = self._count_waiters.get(chat_id)
        if not waiting:
            return
        for count, future in list(waiting):
            if len(arrived) >= count and not future.done():
                future.set_result(None)
        self._count_waiters[chat_id] = [(c, f) for c, f in waiting if not f.done()]

    def _notify(self) -> None:
        if self._changed is None:
            return

        async def wake() -> None:
            assert self._changed is not None
            async with self._changed:
                self._changed.notify_all()

        asyncio.get_running_loop().create_task(wake())

    # -- the HTTP side ----------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params: Json = dict(await request.post()) if request.can_read_body else {}
        params.update(request.query)
        for name, value in list(params.items()):
            if isinstance(value, FileField):
                params[name] = self._upload(method, name, value)
        self.calls.append((method, params))
        if method in self.stalled and self._healed is not None:
            self.stalls.append((method, params))
            self._notify()
            await self._healed.wait()  # until healed, or the client gives up and disconnects
            return web.json_response(
                {"ok": False, "error_code": 502, "description": "Bad Gateway"}, status=502
            )
        handler = getattr(self, f"_m_{method}", None)
        try:
            if handler is None:
                raise ApiError(404, f"Not Found: method {method} is not faked")
            result = await handler(params)
            body: Json = {"ok": True, "result": result}
            status = 200
        except ApiError as error:
            body, status = error.body(), error.code
        self._notify()
        return web.json_response(body, status=status)

    def _upload(self, method: str, name: str, part: FileField) -> str:
        """Keep an uploaded file; its new file id stands in the parameter."""
        data = part.file.read()
        file_id = f"upload-{next(self._file_ids)}"
        self.files[file_id] = data
        self.uploads.append(Uploaded(method, name, part.filename, part.content_type, data, file_id))
        return file_id

    async def _file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        file_id = path.removeprefix("files/").removesuffix(".bin")
        if file_id in self.files:
            return web.Response(body=self.files[file_id])
        return web.Response(body=b"\x89PNG fake " + path.encode())

    # -- methods ------------------------------------------------------------------------------

    async def _m_getMe(self, params: Json) -> Json:
        return self.me

    async def _m_deleteWebhook(self, params: Json) -> bool:
        self.webhook = {}
        if params.get("drop_pending_updates") == "true":
            self.updates.clear()
        return True

    async def _m_setWebhook(self, params: Json) -> bool:
        self.webhook = {"url": params["url"], "secret_token": params.get("secret_token", "")}
        if self._webhook_queue is None:
            self._webhook_queue = asyncio.Queue()
            self._webhook_task = asyncio.get_running_loop().create_task(self._post_webhooks())
        for update in self.updates:
            self._webhook_queue.put_nowait(update)
        self.updates.clear()
        return True

    async def _post_webhooks(self) -> None:
        assert self._webhook_queue is not None
        async with ClientSession() as session:
            while True:
                update = await self._webhook_queue.get()
                headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook["secret_token"]}
                async with session.post(self.webhook["url"], json=update, headers=headers) as r:
                    self.webhook_posts += 1 if r.status == 200 else 0
                self._notify()

    async def _m_getUpdates(self, params: Json) -> list[Json]:
        offset = int(params.get("offset", 0) or 0)
        limit = int(params.get("limit", 100) or 100)
        timeout = float(params.get("timeout", 0) or 0)
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates and timeout > 0:
            assert self._changed is not None
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: bool(self.updates)), timeout
                    )
        return self.updates[:limit]

    async def _m_setMyCommands(self, params: Json) -> bool:
        self.commands[params.get("language_code", "")] = json.loads(params["commands"])
        return True

    async def _m_answerCallbackQuery(self, params: Json) -> bool:
        self.answers.append(params)
        return True

    async def _m_getFile(self, params: Json) -> Json:
        file_id = params["file_id"]
        return {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_size": len(self.files.get(file_id, b"x" * 12)),
            "file_path": f"files/{file_id}.bin",
        }

    async def _m_sendMessage(self, params: Json) -> Json:
        if len(_plain(params["text"], params)) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        return self._create("sendMessage", params, {"text": params["text"]})

    async def _m_sendPhoto(self, params: Json) -> Json:
        caption = str(params.get("caption", "") or "")
        if len(_plain(caption, params)) > MAX_CAPTION:
            raise ApiError(400, "Bad Request: message caption is too long")
        file_id = str(params["photo"])
        photo = [
            {"file_id": file_id, "file_unique_id": f"p-{file_id}", "width": w, "height": w}
            for w in (90, 320, 1280)
        ]
        content: Json = {"photo": photo}
        if caption:
            content["caption"] = caption
        return self._create("sendPhoto", params, content)

    async def _m_sendVoice(self, params: Json) -> Json:
        voice = {"file_id": params["voice"], "file_unique_id": "v", "duration": 1}
        return self._create(
            "sendVoice", params, {"voice": voice, "caption": params.get("caption", "")}
        )

    async def _m_editMessageText(self, params: Json) -> Json:
        return self._edit("editMessageText", params, params["text"])

    async def _m_editMessageCaption(self, params: Json) -> Json:
        caption = str(params.get("caption", "") or "")
        if len(_plain(caption, params)) > MAX_CAPTION:
            raise ApiError(400, "Bad Request: message caption is too long")
        return self._edit("editMessageCaption", params, caption)

    async def _m_editMessageReplyMarkup(self, params: Json) -> Json:
        return self._edit("editMessageReplyMarkup", params, None)

    def _create(self, method: str, params: Json, content: Json) -> Json:
        chat_id = self._chat_id(params)
        self._check_flood(method, chat_id)
        markup = json.loads(params["reply_markup"]) if params.get("reply_markup") else None
        message: Json = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": self.chats[chat_id],
            "from": self.me,
            **content,
        }
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self.messages[(chat_id, message["message_id"])] = message
        self._chat_index.setdefault(chat_id, []).append(message["message_id"])
        self._arrived(chat_id)
        text = str(content.get("text") or content.get("caption") or "")
        self.sent.append(
            Sent(method, chat_id, message["message_id"], text, time.monotonic(), markup, params)
        )
        return message

    def _edit(self, method: str, params: Json, text: str | None) -> Json:
        chat_id = self._chat_id(params)
        message_id = int(params["message_id"])
        message = self.messages.get((chat_id, message_id))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        field_name = "caption" if "photo" in message else "text"
        if method == "editMessageText" and field_name == "caption":
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        if method == "editMessageCaption" and field_name == "text":
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        self._check_flood(method, chat_id)
        markup = json.loads(params["reply_markup"]) if params.get("reply_markup") else None
        new_text = message.get(field_name) if text is None else text
        if new_text == message.get(field_name) and markup == message.get("reply_markup"):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        message[field_name] = new_text
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = int(time.time())
        self.sent.append(
            Sent(method, chat_id, message_id, str(new_text), time.monotonic(), markup, params)
        )
        return message

    def _chat_id(self, params: Json) -> int:
        chat_id = int(params["chat_id"])
        if chat_id not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _check_flood(self, method: str, chat_id: int) -> None:
        """Take a slot from every bucket this call counts against, or answer 429."""
        limits = self.limits
        if not limits.enabled:
            return
        now = time.monotonic()
        buckets = [self._bucket(f"chat:{chat_id}", 1 / limits.chat_per_second, limits.chat_burst)]
        if method in SEND_METHODS:
            buckets.append(self._bucket("bot", 1 / limits.bot_per_second, limits.bot_burst))
            if chat_id < 0:
                interval = 60 / limits.group_per_minute
                buckets.append(self._bucket(f"group:{chat_id}", interval, limits.group_burst))
        waits = [b.take(now) for b in buckets]
        if any(waits):
            # Give back what was taken, so a refused call costs nothing.
            for bucket, wait in zip(buckets, waits, strict=True):
                if not wait:
                    bucket.tat -= bucket.interval
            self.throttled += 1
            retry = limits.retry_after or max(1, math.ceil(max(waits)))
            raise ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)

    def _bucket(self, key: str, interval: float, burst: int) -> Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket(interval, burst)
        return bucket

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)


def _plain(text: str, params: Json) -> str:
    """What Telegram counts of a text: with ``parse_mode=HTML``, tags out and entities as one."""
    if params.get("parse_mode") != "HTML":
        return text
    return html.unescape(re.sub(r"<[^>]+>", "", text))
