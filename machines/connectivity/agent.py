"""An asynchronous client of one MTConnect agent: /probe, /current, /sample, and /sample streaming.

A response is read with a size cap (the rest is never downloaded), then parsed safely (xmldoc). Streaming is
the agent's `interval` long poll: one HTTP response of `multipart/x-mixed-replace` parts, each a Streams
document, sent as data arrives (and an empty one every `heartbeat` when nothing happens).
"""

from collections.abc import AsyncIterator
from urllib.parse import urlencode

import httpx

from machines.connectivity.mtconnect import AgentError, Device, Probe, Streams, read_probe, read_streams
from machines.connectivity.xmldoc import MAX_DOCUMENT_BYTES, DocumentError


class AgentUnreachable(Exception):
    """No answer: refused, reset, timed out, or an HTTP error without an MTConnect document."""


class StreamingUnsupported(Exception):
    """The agent answered an `interval` request with a plain document: it only serves polling."""

    def __init__(self, document: bytes) -> None:
        super().__init__("agent does not stream")
        self.document = document


class Agent:
    def __init__(self, base_url: str, client: httpx.AsyncClient, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client
        self.max_bytes = max_bytes

    def _url(self, path: str, **params: int) -> str:
        query = f"?{urlencode(params)}" if params else ""
        return f"{self.base_url}/{path}{query}"

    async def probe(self) -> Probe | AgentError:
        return read_probe(await self._get(self._url("probe")), max_bytes=self.max_bytes)

    async def current(self, devices: tuple[Device, ...]) -> Streams | AgentError:
        return read_streams(await self._get(self._url("current")), devices, max_bytes=self.max_bytes)

    async def sample(self, devices: tuple[Device, ...], *, start: int, count: int) -> Streams | AgentError:
        body = await self._get(self._url("sample", **{"from": start, "count": count}))
        return read_streams(body, devices, max_bytes=self.max_bytes)

    async def stream(
        self, devices: tuple[Device, ...], *, start: int, count: int, interval_ms: int, heartbeat_ms: int,
        read_timeout: float,
    ) -> AsyncIterator[Streams | AgentError]:
        """Documents as the agent pushes them, until the caller stops iterating or the connection ends."""
        url = self._url("sample", **{"from": start, "count": count, "interval": interval_ms,
                                     "heartbeat": heartbeat_ms})
        timeout = httpx.Timeout(self.client.timeout.connect, read=read_timeout)
        try:
            async with self.client.stream("GET", url, timeout=timeout) as response:
                content_type = response.headers.get("content-type", "")
                if "multipart/x-mixed-replace" not in content_type:
                    raise StreamingUnsupported(await self._body(response))
                boundary = _boundary(content_type)
                async for part in _parts(response.aiter_bytes(), boundary, self.max_bytes):
                    yield read_streams(part, devices, max_bytes=self.max_bytes)
        except httpx.TransportError as exc:
            raise AgentUnreachable(_describe(exc, url)) from exc
        raise AgentUnreachable(f"{url}: the agent closed the stream")

    async def _get(self, url: str) -> bytes:
        try:
            async with self.client.stream("GET", url) as response:
                return await self._body(response)
        except httpx.TransportError as exc:
            raise AgentUnreachable(_describe(exc, url)) from exc

    async def _body(self, response: httpx.Response) -> bytes:
        # Agents answer errors (OUT_OF_RANGE, NO_DEVICE) with an MTConnectError document and a 4xx status:
        # the body is read either way, and only a non-MTConnect error answer counts as unreachable.
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > self.max_bytes:
                raise DocumentError(f"{response.url}: document over the {self.max_bytes}-byte cap, not read further")
        if response.status_code >= 500 or (response.status_code >= 400 and b"MTConnectError" not in body):
            raise AgentUnreachable(f"{response.url}: HTTP {response.status_code}")
        return bytes(body)


def _describe(exc: Exception, url: str) -> str:
    return f"{url}: {type(exc).__name__} {exc}".strip()


def _boundary(content_type: str) -> bytes:
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary" and value:
            return value.strip('"').encode()
    raise DocumentError(f"multipart response without a boundary: {content_type}")


async def _parts(chunks: AsyncIterator[bytes], boundary: bytes, max_bytes: int) -> AsyncIterator[bytes]:
    """The bodies of a multipart/x-mixed-replace stream: `--boundary`, headers, a blank line, the body
    (Content-length long where given, else up to the next boundary)."""
    delimiter = b"--" + boundary
    buffer = bytearray()

    async def fill(until: int) -> bool:
        while len(buffer) < until:
            try:
                buffer.extend(await anext(chunks))
            except StopAsyncIteration:
                return False
            if len(buffer) > max_bytes + 1024:
                raise DocumentError(f"stream part over the {max_bytes}-byte cap")
        return True

    async def find(token: bytes) -> int:
        while (index := buffer.find(token)) < 0:
            if not await fill(len(buffer) + 1):
                return -1
        return index

    while True:
        start = await find(delimiter)
        if start < 0:
            return
        del buffer[: start + len(delimiter)]
        if not await fill(2):
            return
        if buffer[:2] == b"--":  # the closing delimiter
            return
        end_of_headers = await find(b"\r\n\r\n")
        if end_of_headers < 0:
            return
        headers = bytes(buffer[:end_of_headers]).decode("latin-1").lower()
        del buffer[: end_of_headers + 4]
        length = next(
            (int(line.split(":", 1)[1]) for line in headers.splitlines() if line.startswith("content-length:")),
            None,
        )
        if length is not None:
            if length > max_bytes:
                raise DocumentError(f"stream part of {length} bytes is over the {max_bytes}-byte cap")
            if not await fill(length):
                raise DocumentError("stream ended inside a part")
            body = bytes(buffer[:length])
            del buffer[:length]
        else:
            end = await find(delimiter)
            if end < 0:
                raise DocumentError("stream ended inside a part")
            body = bytes(buffer[:end]).rstrip(b"\r\n")
            del buffer[:end]
        yield body
