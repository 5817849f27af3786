"""The Bot API HTTP client: a python-telegram-bot ``BaseRequest`` on aiohttp.

Chosen by measurement (``bench/bench_http.py``; figures in ``docs/TELEGRAM.md``):
PTB's default httpx client spends about 2 ms of CPU on each call, much of it
checking every idle pooled connection for expiry; this one about a fifth of
that. Everything PTB expects of a client is kept:

* time-outs: ``connect`` (also bounds waiting for a free pooled connection, the
  ``pool`` time-out), ``read`` per socket read, and ``write`` bounding the whole
  call together with the others (aiohttp has no separate write time-out);
  uploads get their own longer write time-out, as in PTB;
* uploads: files go as multipart form data, other parameters as form fields;
* errors: a time-out becomes :class:`~telegram.error.TimedOut`, any other
  transport failure :class:`~telegram.error.NetworkError`; HTTP answers (429,
  403, 400, 5xx …) are mapped by ``BaseRequest`` itself, as for every client.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

CONNECTIONS = 16


class AiohttpRequest(BaseRequest):
    """Bot API calls over one aiohttp session with a bounded connection pool."""

    def __init__(
        self,
        connections: int = CONNECTIONS,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self.connections = connections
        self._timeouts = {
            "read": read_timeout,
            "write": write_timeout,
            "connect": connect_timeout,
            "pool": pool_timeout,
        }
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The read time-out used when a call names none."""
        return self._timeouts["read"]

    async def initialize(self) -> None:
        """Open the session (in the running event loop)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.connections, limit_per_host=0)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Make one request; return the status code and the body."""
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        write_default = self._media_write_timeout if files else self._timeouts["write"]
        timeout = _timeout(
            read=self._given(read_timeout, self._timeouts["read"]),
            write=self._given(write_timeout, write_default),
            connect=self._given(connect_timeout, self._timeouts["connect"]),
            pool=self._given(pool_timeout, self._timeouts["pool"]),
        )
        body: Any = _form(fields or {}, files) if files else fields
        try:
            async with session.request(method, url, data=body, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error

    @staticmethod
    def _given(value: ODVInput[float], default: float | None) -> float | None:
        return default if isinstance(value, DefaultValue) else value


def _timeout(
    read: float | None, write: float | None, connect: float | None, pool: float | None
) -> aiohttp.ClientTimeout:
    """aiohttp's time-outs for PTB's four: ``connect`` covers waiting for the pool too."""
    waiting = None if connect is None or pool is None else connect + pool
    parts = (waiting, write, read)
    total = None if any(part is None for part in parts) else sum(p for p in parts if p)
    return aiohttp.ClientTimeout(total=total, connect=waiting, sock_connect=connect, sock_read=read)


def _form(fields: dict[str, str], files: dict[str, Any]) -> aiohttp.FormData:
    """Multipart form data: the parameters as fields, then the files."""
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    for name, upload in files.items():
        filename, content, *rest = upload
        mimetype = rest[0] if rest else None
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
