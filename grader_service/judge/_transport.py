"""How a chat-completion body reaches the judge, configured by the openai client, in one of two ways.

`lean` (the default) sends a pre-built POST over aiohttp (the transport the SDK ships as
`DefaultAioHttpClient`), with the client's base URL, auth and default headers, and raises the SDK's
own exception types. Per judge call it costs a fraction of the SDK's full path, whose per-request
option modelling and httpx2 object layer each cost more CPU than the HTTP exchange itself (profiles:
bench/bench_grader.py, README "Throughput"). `sdk` goes through `client.post(...)` in full.
"""

from __future__ import annotations

import json
import os
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import openai
from openai import AsyncOpenAI

try:  # the HTTP library the SDK itself uses: httpx2 for openai >= 3, httpx before
    import httpx2 as http
except ImportError:  # pragma: no cover
    import httpx as http  # type: ignore[no-redef]

try:
    import aiohttp  # noqa: F401

    _HAS_AIOHTTP = True
except ImportError:  # pragma: no cover
    _HAS_AIOHTTP = False


class ChatTransport(Protocol):
    async def post(self, body: dict[str, Any]) -> bytes: ...

    async def aclose(self) -> None: ...


class SDKTransport:
    """`client.post("/chat/completions")` with the raw response: every SDK step, one JSON parse (ours)."""

    def __init__(self, client: AsyncOpenAI) -> None:
        self.client = client

    async def post(self, body: dict[str, Any]) -> bytes:
        raw = await self.client.post("/chat/completions", cast_to=http.Response, body=body)
        return raw.content

    async def aclose(self) -> None:
        await self.client.close()


class LeanTransport:
    """A pre-built POST for the hot path, configured by the openai client and failing with its exceptions.

    With aiohttp installed (the `openai[aiohttp]` extra the SDK itself uses for speed) the request goes
    out through an aiohttp session directly, skipping the httpx2 object layer the SDK wraps around it;
    without it, through the SDK's own HTTP client. Base URL, auth and default headers come from the
    client; a non-2xx reply becomes the exception the SDK would raise (`_make_status_error_from_response`),
    a timeout `APITimeoutError`, any other transport failure `APIConnectionError`."""

    def __init__(self, client: AsyncOpenAI, http_client: Any, timeout_s: float, max_connections: int) -> None:
        self.client = client
        self.http = http_client
        self.timeout_s = timeout_s
        self.max_connections = max_connections
        self.url = str(client.base_url).rstrip("/") + "/chat/completions"
        headers = {k: v for k, v in client.default_headers.items() if isinstance(v, str)}
        headers["Content-Type"] = "application/json"
        self.headers = headers
        self._session: Any = None

    def _aiohttp(self) -> Any:
        if self._session is None:
            import aiohttp

            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.max_connections, limit_per_host=self.max_connections),
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                headers=self.headers,
                # proxies from the environment, as httpx honours them; aiohttp re-reads the environment (and
                # ~/.netrc) on every request when asked to, so only where a proxy is actually configured
                trust_env=any(k.lower().endswith("_proxy") for k in os.environ),
            )
        return self._session

    async def post(self, body: dict[str, Any]) -> bytes:
        content = json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
        if not _HAS_AIOHTTP:
            return await self._post_httpx(content)
        import aiohttp

        try:
            async with self._aiohttp().post(self.url, data=content) as resp:
                data = await resp.read()
                status, headers = resp.status, list(resp.headers.items())
        except (TimeoutError, aiohttp.ServerTimeoutError) as e:
            raise openai.APITimeoutError(request=self._request()) from e
        except aiohttp.ClientError as e:
            raise openai.APIConnectionError(message=f"{type(e).__name__}: {e}", request=self._request()) from e
        if status >= 300:
            response = http.Response(status, headers=headers, content=data, request=self._request())
            raise self.client._make_status_error_from_response(response)
        return data

    async def _post_httpx(self, content: bytes) -> bytes:
        try:
            resp = await self.http.post(self.url, content=content, headers=self.headers)
            data = await resp.aread()
        except http.TransportError as e:
            if _timed_out(e):
                raise openai.APITimeoutError(request=e.request) from e
            raise openai.APIConnectionError(message=f"{type(e).__name__}: {e}", request=e.request) from e
        if resp.status_code >= 300:
            raise self.client._make_status_error_from_response(resp)
        return data

    def _request(self) -> Any:
        return http.Request("POST", self.url)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
        await self.client.close()


def _without_credentials(url: str) -> str:
    """`user:password@` in the judge URL would fight the bearer token (aiohttp refuses both at once);
    the key belongs in GRADER_JUDGE_API_KEY."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[1], parts.path, parts.query, parts.fragment))


def _timed_out(exc: BaseException) -> bool:
    """Whether a transport error was a timeout. The aiohttp adapter reports a refused connection as
    `ConnectTimeout`; the aiohttp error underneath says what really happened."""
    cause = exc.__cause__
    if cause is not None and type(cause).__module__.startswith("aiohttp"):
        return isinstance(cause, TimeoutError) or "Timeout" in type(cause).__name__
    return isinstance(exc, http.TimeoutException)


def make_transport(
    base_url: str, api_key: str | None, timeout_s: float, max_connections: int = 100, kind: str = "lean"
) -> ChatTransport:
    """The openai client, over aiohttp where it is installed (`openai[aiohttp]`): its C HTTP parser costs
    a fraction of the pure-Python transport's CPU per call."""
    base_url = _without_credentials(base_url)
    limits = http.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    try:
        http_client = openai.DefaultAioHttpClient(timeout=timeout_s, limits=limits)
    except RuntimeError:  # aiohttp is not installed: the SDK's default transport
        http_client = openai.DefaultAsyncHttpx2Client(timeout=timeout_s, limits=limits)
    client = AsyncOpenAI(
        base_url=base_url, api_key=api_key or "EMPTY", timeout=timeout_s, max_retries=0, http_client=http_client
    )
    if kind == "lean":
        return LeanTransport(client, http_client, timeout_s, max_connections)
    return SDKTransport(client)
