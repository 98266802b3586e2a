"""A replay agent: a small MTConnect agent that serves a recording, for tests and the demo.

A recording (`recordings/<name>/`) is what a real agent is made of: its Devices document (`probe.xml`) and
what its adapters said, in the adapters' own SHDR lines (`stream.txt`: `time|key|value|key|value...`, a
condition as `time|key|LEVEL|nativeCode|nativeSeverity|qualifier|text`), plus `agent.json` for how this agent
writes its documents (timestamps without `Z`, seven fractional digits, which vendor prefixes it declares).
The replay agent numbers what it plays with real sequence numbers in a bounded buffer, stamps it with the
time it plays it, serves /probe, /current, /sample?from=&count= and `interval` streaming like an agent does
(OUT_OF_RANGE when asked for what it no longer holds), and loops the recording. Its instanceId can change
(a restart), its buffer can be small (an overrun), and a test can make it answer one request with any bytes.
"""

import datetime as dt
import json
import re
import secrets
import threading
import time
from collections import Counter, deque
from contextlib import suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape, quoteattr

from machines.connectivity.mtconnect import parse_timestamp
from machines.connectivity.xmldoc import children, descendants, local_name, parse

RECORDINGS = Path(__file__).resolve().parent / "recordings"
_CONTAINERS = {"SAMPLE": "Samples", "EVENT": "Events", "CONDITION": "Condition"}


@dataclass(frozen=True, slots=True)
class Item:
    device: str  # the device's uuid
    id: str
    name: str
    type: str
    sub_type: str
    category: str
    component: str  # the component it belongs to: element name, id and name
    component_id: str
    component_name: str

    @property
    def element(self) -> str:
        """Its element in a Streams document: EXECUTION -> Execution; a vendor's x:FILTER -> x:Filter."""
        prefix, _, name = self.type.rpartition(":")
        pascal = "".join(word.capitalize() for word in name.split("_"))
        return f"{prefix}:{pascal}" if prefix else pascal


@dataclass(frozen=True, slots=True)
class Device:
    uuid: str
    name: str
    items: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class Line:
    offset: float  # seconds after the recording's first line
    values: tuple[tuple[Item, tuple[str, ...]], ...]  # an event/sample: (value,); a condition: 5 fields


@dataclass
class Recording:
    probe: str
    devices: tuple[Device, ...]
    lines: tuple[Line, ...]
    streams_namespace: str  # "" where the probe has none
    version: str
    timestamps: str = "Z"  # "Z", "no-zone" (UTC without Z) or "7-digits"
    declared_prefixes: dict[str, str] = field(default_factory=dict)

    @property
    def duration(self) -> float:
        return self.lines[-1].offset if self.lines else 0.0


def load(directory: str | Path) -> Recording:
    path = Path(directory)
    if not path.is_absolute() and not path.exists():
        path = RECORDINGS / path
    probe = (path / "probe.xml").read_text(encoding="utf-8")
    options = json.loads((path / "agent.json").read_text()) if (path / "agent.json").exists() else {}
    root = parse(probe.encode()).root
    namespace = root.tag.partition("}")[0][1:] if root.tag.startswith("{") else ""
    devices = tuple(_devices(root))
    lines = tuple(_lines((path / "stream.txt").read_text(encoding="utf-8"), devices))
    return Recording(
        probe=probe, devices=devices, lines=lines,
        streams_namespace=namespace.replace("MTConnectDevices", "MTConnectStreams"),
        version=options.get("version") or (namespace.rpartition(":")[2] + ".0.0" if namespace else "1.1.0.0"),
        timestamps=options.get("timestamps", "Z"), declared_prefixes=options.get("declared_prefixes", {}),
    )


def _devices(root) -> list[Device]:
    devices = []
    for device in descendants(root, "Device"):
        uuid = device.get("uuid") or device.get("name", "")
        items = []
        for data_items in descendants(device, "DataItems"):
            component = data_items.getparent()
            for item in children(data_items, "DataItem"):
                items.append(Item(
                    device=uuid, id=item.get("id", ""), name=item.get("name", ""), type=item.get("type", ""),
                    sub_type=item.get("subType", ""), category=item.get("category", ""),
                    component=local_name(component), component_id=component.get("id", ""),
                    component_name=component.get("name", ""),
                ))
        devices.append(Device(uuid=uuid, name=device.get("name", ""), items=tuple(items)))
    return devices


def _lines(text: str, devices: tuple[Device, ...]) -> list[Line]:
    """SHDR lines; keys are data item names or ids, `Device:key` where the agent has several devices."""
    keys: dict[str, Item] = {}
    for device in devices:
        for item in device.items:
            for key in filter(None, (item.id, item.name)):
                keys.setdefault(key, item)
                keys[f"{device.name}:{key}"] = item
    lines, first = [], None
    for raw in text.splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        fields = raw.split("|")
        moment = parse_timestamp(fields[0])
        first = first or moment
        values, rest = [], fields[1:]
        while rest:
            key, rest = rest[0], rest[1:]
            item = keys.get(key)
            if item is None:
                raise ValueError(f"recording line {raw[:60]!r}: no data item {key!r} in probe.xml")
            width = 5 if item.category == "CONDITION" else 1
            values.append((item, tuple(rest[:width])))
            rest = rest[width:]
        lines.append(Line(offset=(moment - first).total_seconds(), values=tuple(values)))
    return lines


@dataclass(frozen=True, slots=True)
class _Played:
    sequence: int
    item: Item
    fields: tuple[str, ...]
    timestamp: dt.datetime


class ReplayAgent:
    def __init__(
        self, recording: Recording, *, host: str = "127.0.0.1", port: int = 0, instance_id: str | None = None,
        buffer_size: int = 131_072, realtime: bool = False, speed: float = 1.0,
    ) -> None:
        self.recording = recording
        self.host, self.port = host, port
        self.buffer_size = buffer_size
        self.realtime, self.speed = realtime, speed
        self.clock_offset = dt.timedelta()  # a control whose clock runs ahead
        self._lock = threading.Condition()
        self._canned: deque[tuple[str, bytes, int]] = deque()
        self.requests: Counter[str] = Counter()  # by kind: probe, current, sample, stream
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._position = 0  # the next line of the recording
        self.restart(instance_id)

    # -- control ---------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "ReplayAgent":
        self._stopping.clear()
        self._server = ThreadingHTTPServer((self.host, self.port), _handler(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._threads = [threading.Thread(target=self._server.serve_forever, daemon=True)]
        if self.realtime:
            self._threads.append(threading.Thread(target=self._play_in_time, daemon=True))
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Unreachable from now on (start() again serves on the same port)."""
        self._stopping.set()
        with self._lock:
            self._lock.notify_all()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for thread in self._threads:
            thread.join(timeout=5)

    def restart(self, instance_id: str | None = None) -> None:
        """What an agent restart looks like: a new instanceId (unless one is given), sequences from 1, an empty
        buffer, every data item UNAVAILABLE until its adapter speaks again."""
        with self._lock:
            self.instance_id = instance_id or str(int(time.time() * 1000) + secrets.randbelow(1000))
            self._buffer: deque[_Played] = deque(maxlen=self.buffer_size)
            self._next = 1
            self._state: dict[str, dict[str, _Played]] = {}
            self._generation = getattr(self, "_generation", 0) + 1
            for device in self.recording.devices:
                for item in device.items:
                    fields = ("UNAVAILABLE", "", "", "", "") if item.category == "CONDITION" else ("UNAVAILABLE",)
                    self._add(item, fields)
            self._lock.notify_all()

    def play(self, lines: int = 1) -> None:
        """The recording's next lines, stamped now (looping at its end)."""
        for _ in range(lines):
            line = self.recording.lines[self._position % len(self.recording.lines)]
            self._position += 1
            with self._lock:
                for item, fields in line.values:
                    self._add(item, fields)
                self._lock.notify_all()

    def play_all(self) -> None:
        self.play(len(self.recording.lines) - self._position % len(self.recording.lines))

    def serve_next(self, path: str, body: bytes, status: int = 200) -> None:
        """Answer the next request for `path` (/probe, /current, /sample) with these bytes, once."""
        self._canned.append((path, body, status))

    def set_value(self, key: str, *fields: str) -> int:
        """Add one observation now (a data item by id or name); returns its sequence."""
        item = next(i for d in self.recording.devices for i in d.items if key in (i.id, i.name))
        with self._lock:
            sequence = self._add(item, fields)
            self._lock.notify_all()
        return sequence

    # -- state -----------------------------------------------------------------------------------------------

    def _add(self, item: Item, fields: tuple[str, ...]) -> int:
        played = _Played(self._next, item, fields, dt.datetime.now(dt.UTC) + self.clock_offset)
        self._next += 1
        self._buffer.append(played)
        active = self._state.setdefault(item.id, {})
        if item.category != "CONDITION":
            active.clear()
            active[""] = played
        else:
            level, code = fields[0].upper(), fields[1] if len(fields) > 1 else ""
            if level in ("FAULT", "WARNING"):
                active.pop("", None)
                active[code] = played
            elif level == "NORMAL" and code:
                active.pop(code, None)
                if not active:
                    active[""] = played
            else:  # NORMAL without a code clears them all; UNAVAILABLE too
                active.clear()
                active[""] = played
        return played.sequence

    def _play_in_time(self) -> None:
        started, loop, lines = time.monotonic(), 0.0, len(self.recording.lines)
        while not self._stopping.is_set():
            line = self.recording.lines[self._position % lines]
            if self._position and self._position % lines == 0:
                loop += self.recording.duration + 1.0  # the recording again, a second after its end
            due = started + (loop + line.offset) / self.speed
            if self._stopping.wait(max(0.0, due - time.monotonic())):
                return
            self.play()

    # -- documents -------------------------------------------------------------------------------------------

    def document(self, path: str, query: dict[str, str]) -> tuple[int, bytes]:
        with self._lock:
            if path.endswith("/probe") or path == "/probe":
                return 200, self._probe()
            if path.endswith("/current") or path == "/current":
                played = sorted((p for a in self._state.values() for p in a.values()), key=lambda p: p.sequence)
                return 200, self._streams(played)
            if path.endswith("/sample") or path == "/sample":
                return self._sample(query)[:2]
            return 404, self._error("UNSUPPORTED", f"The following path is invalid: {path}")

    def _sample(self, query: dict[str, str]) -> tuple[int, bytes, int]:
        first = self._buffer[0].sequence if self._buffer else self._next
        try:
            start = int(query.get("from", first))
            count = int(query.get("count", 100))
        except ValueError:
            return 400, self._error("INVALID_REQUEST", "'from' and 'count' must be integers"), 0
        if start < first or start > self._next:
            message = f"'from' must be greater than or equal to {first} and less than or equal to {self._next}."
            return 400, self._error("OUT_OF_RANGE", message), start
        played = [p for p in self._buffer if p.sequence >= start][:count]
        next_ = played[-1].sequence + 1 if played else start
        return 200, self._streams(played, next_sequence=next_), next_

    def _header(self, **sequences: int) -> str:
        first = self._buffer[0].sequence if self._buffer else self._next
        extra = ""
        if sequences:
            extra = (f' nextSequence="{sequences["next_sequence"]}" firstSequence="{first}"'
                     f' lastSequence="{self._next - 1}"')
        return (f'<Header creationTime="{self._time(dt.datetime.now(dt.UTC) + self.clock_offset)}" sender="replay"'
                f' instanceId="{self.instance_id}" version="{self.recording.version}"'
                f' bufferSize="{self.buffer_size}"{extra}/>')

    def _probe(self) -> bytes:
        header = self._header()
        text = re.sub(r"<Header\b[^>]*?/>", lambda _: header, self.recording.probe, count=1)
        return text.encode()

    def _open(self, root: str) -> str:
        namespace = self.recording.streams_namespace.replace("MTConnectStreams", root)
        declarations = f' xmlns="{namespace}" xmlns:m="{namespace}"' if namespace else ""
        for prefix, uri in self.recording.declared_prefixes.items():
            declarations += f" xmlns:{prefix}={quoteattr(uri)}"
        return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}{declarations}>'

    def _error(self, code: str, message: str) -> bytes:
        return (f"{self._open('MTConnectError')}{self._header()}<Errors><Error errorCode=\"{code}\">"
                f"{escape(message)}</Error></Errors></MTConnectError>").encode()

    def _streams(self, played: list[_Played], *, next_sequence: int | None = None) -> bytes:
        parts = [self._open("MTConnectStreams"), self._header(next_sequence=next_sequence or self._next),
                 "<Streams>"]
        for device in self.recording.devices:
            mine = [p for p in played if p.item.device == device.uuid]
            parts.append(f"<DeviceStream name={quoteattr(device.name)} uuid={quoteattr(device.uuid)}>")
            components: dict[tuple[str, str, str], dict[str, list[str]]] = {}
            for p in mine:
                key = (p.item.component, p.item.component_id, p.item.component_name)
                containers = components.setdefault(key, {})
                containers.setdefault(_CONTAINERS.get(p.item.category, "Events"), []).append(self._observation(p))
            for (component, component_id, name), containers in components.items():
                parts.append(f"<ComponentStream component={quoteattr(component)} name={quoteattr(name)}"
                             f" componentId={quoteattr(component_id)}>")
                for container, elements in containers.items():
                    parts.append(f"<{container}>{''.join(elements)}</{container}>")
                parts.append("</ComponentStream>")
            parts.append("</DeviceStream>")
        parts.append("</Streams></MTConnectStreams>")
        return "\n".join(parts).encode()

    def _observation(self, p: _Played) -> str:
        item = p.item
        attributes = (f'dataItemId={quoteattr(item.id)} timestamp="{self._time(p.timestamp, p.sequence)}"'
                      f' sequence="{p.sequence}"')
        if item.name:
            attributes += f" name={quoteattr(item.name)}"
        if item.sub_type:
            attributes += f" subType={quoteattr(item.sub_type)}"
        if item.category != "CONDITION":
            return f"<{item.element} {attributes}>{escape(p.fields[0] if p.fields else '')}</{item.element}>"
        level, code, severity, qualifier, text = (tuple(p.fields) + ("",) * 5)[:5]
        element = level.capitalize() if level.upper() in ("NORMAL", "WARNING", "FAULT") else "Unavailable"
        attributes += f" type={quoteattr(item.type)}"
        for name, value in (("nativeCode", code), ("nativeSeverity", severity), ("qualifier", qualifier)):
            if value:
                attributes += f" {name}={quoteattr(value)}"
        return f"<{element} {attributes}>{escape(text)}</{element}>"

    def _time(self, moment: dt.datetime, sequence: int = 0) -> str:
        text = moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
        if self.recording.timestamps == "no-zone":
            return text
        if self.recording.timestamps == "7-digits":
            return f"{text}{sequence % 10}Z"  # .NET ticks: a seventh digit
        return f"{text}Z"

    # -- streaming ---------------------------------------------------------------------------------------------

    def stream(self, write, query: dict[str, str]) -> None:
        """`interval` streaming: a multipart part whenever there is news (at most every interval ms), an
        empty document every heartbeat ms, until the client goes, the agent stops or restarts."""
        interval = int(query.get("interval", 0)) / 1000
        heartbeat = int(query.get("heartbeat", 10_000)) / 1000
        boundary = secrets.token_hex(16)
        write(None, boundary)
        with self._lock:
            generation, start = self._generation, int(query.get("from", self._next))
        while not self._stopping.is_set():
            with self._lock:
                self._lock.wait_for(
                    lambda start=start: self._next > start or self._stopping.is_set() or self._generation != generation,
                    timeout=heartbeat,
                )
                if self._stopping.is_set() or self._generation != generation:
                    return
                status, body, start = self._sample({**query, "from": str(start)})
            write(body, boundary)
            if status != 200:
                return
            time.sleep(interval)


def _handler(agent: ReplayAgent) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            kind = url.path.rpartition("/")[2]
            agent.requests["stream" if kind == "sample" and "interval" in query else kind] += 1
            canned = next((c for c in agent._canned if url.path.endswith(c[0])), None)
            if canned:
                agent._canned.remove(canned)
                self._send(canned[2], canned[1])
            elif url.path.endswith("/sample") and "interval" in query:
                with suppress(BrokenPipeError, ConnectionResetError):  # the client went away
                    agent.stream(self._part, query)
            else:
                self._send(*agent.document(url.path, query))

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _part(self, body: bytes | None, boundary: str) -> None:
            if body is None:
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace;boundary={boundary}")
                self.end_headers()
            else:
                self.wfile.write(f"--{boundary}\r\nContent-type: text/xml\r\nContent-length: {len(body)}\r\n\r\n"
                                 .encode() + body + b"\r\n")
            self.wfile.flush()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the stdlib's name)
            pass

    return Handler
