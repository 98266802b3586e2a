"""A fast fake MTConnect agent for the collector benchmark: `python -m bench.collector.agent --agents 10 ...`.

One process serves any number of agents, each on its own loopback port with its own devices, from one asyncio loop.
Each agent generates observations at the rate asked (spread evenly over its devices, stamped when generated), numbers
them with real sequence numbers in a bounded buffer and serves real MTConnect 2.0 documents: /probe, /current,
/sample?from=&count= and `interval` streaming (multipart/x-mixed-replace, chunked, an empty document every heartbeat),
OUT_OF_RANGE for what it no longer holds. As the standard has it, a stream sends at most one document per interval,
each of at most `count` observations: one agent streams at most count / interval observations per second (1,000 / 0.5 s
with the collector's settings).

The mix, per device (a cycle of 40 observations, each device starting at a random place in it): 24 part counts (each
one more), 4 programs (a new one every fourth), 8 conditions (a warning and its clearing, alternately: neither changes
a machine's state), 1 controller mode and 1 availability (unchanged values) and 2 executions, ACTIVE and FEED_HOLD
alternately: 5 % of observations change the machine's state. "Pinned" devices (the first N of each agent) get a part
count instead of each execution: their execution changes only when the benchmark asks (/bench/change).

Besides MTConnect, each agent answers the benchmark on /bench/...: `stats`, `change?device=&execution=` (one
execution observation now; answers its sequence and time), `served?sequence=` (when a document holding it was first
written to a client) and `applied` (POST {device: cursor}: how many observations, and how many execution changes, of
each device lie below its cursor: what the collector applied when its cursor stands there).
"""

import argparse
import asyncio
import bisect
import json
import random
import secrets
import signal
import time
from array import array
from contextlib import suppress
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

STREAMS_NS = "urn:mtconnect.org:MTConnectStreams:2.0"
DEVICES_NS = "urn:mtconnect.org:MTConnectDevices:2.0"
ERROR_NS = "urn:mtconnect.org:MTConnectError:2.0"

# Where each data item sits in a Streams document: (component, container) slots of a DeviceStream.
DEVICE_EVENTS, CONTROLLER_EVENTS, CONTROLLER_CONDITION, PATH_EVENTS = range(4)
# key: (id suffix, type, category, slot, element in a Streams document)
ITEMS = {
    "avail": ("avail", "AVAILABILITY", "EVENT", DEVICE_EVENTS, "Availability"),
    "estop": ("estop", "EMERGENCY_STOP", "EVENT", CONTROLLER_EVENTS, "EmergencyStop"),
    "mode": ("mode", "CONTROLLER_MODE", "EVENT", CONTROLLER_EVENTS, "ControllerMode"),
    "system": ("system", "SYSTEM", "CONDITION", CONTROLLER_CONDITION, ""),
    "execution": ("exec", "EXECUTION", "EVENT", PATH_EVENTS, "Execution"),
    "program": ("program", "PROGRAM", "EVENT", PATH_EVENTS, "Program"),
    "part_count": ("parts", "PART_COUNT", "EVENT", PATH_EVENTS, "PartCount"),
    # Never sent: an agent's devices describe much more than Spindle reads.
    "speed": ("sspeed", "ROTARY_VELOCITY", "SAMPLE", PATH_EVENTS, ""),
}
_HALF = (["execution"] + ["part_count"] * 3 + ["system"] + ["part_count"] * 3 + ["program"] + ["part_count"] * 3
         + ["system"] + ["part_count"] * 2 + ["program", "system", "part_count", "system"])
MIX = [*_HALF, "mode", *_HALF, "avail"]  # 40: 24 part counts, 4 programs, 8 conditions, 2 executions, 1 mode, 1 avail


class _Stamp:
    """UTC timestamps as agents write them, formatted fast (the second's text is kept)."""

    def __init__(self) -> None:
        self.second, self.text = -1, ""

    def __call__(self, moment: float) -> str:
        second = int(moment)
        if second != self.second:
            self.second, self.text = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self.text}.{int((moment - second) * 1_000_000):06d}Z"


class _Device:
    def __init__(self, agent: int, index: int, pinned: bool, rng: random.Random) -> None:
        self.index = index
        self.name = f"A{agent:02d}D{index:03d}"
        self.uuid = f"bench-{agent:02d}-{index:03d}"
        self.prefix = f"a{agent}d{index}_"
        self.pinned = pinned
        self.position = rng.randrange(len(MIX))
        self.parts, self.program, self.active, self.warning = 0, 1000, True, False
        self.sequences = array("q")  # every sequence of this device, for /bench/applied
        self.executions = array("q")  # the sequences of its execution observations
        self.latest: dict[str, tuple[int, str]] = {}  # data item key -> (sequence, element), for /current


class FakeAgent:
    def __init__(self, number: int, port: int, *, devices: int, rate: float, buffer_size: int, pinned: int,
                 backlog: int, seed: int) -> None:
        rng = random.Random(seed + number)
        self.number, self.port, self.rate, self.buffer_size = number, port, rate, buffer_size
        self.devices = [_Device(number, i, i < pinned, rng) for i in range(devices)]
        self.by_name = {device.name: device for device in self.devices}
        self.instance_id = str(int(time.time()) * 100 + number)
        self.entries: list[tuple[int, int, str]] = []  # (device index, slot, element), from sequence `first` on
        self.first, self.next = 1, 1
        self.watched: dict[int, float | None] = {}  # sequence -> when it was first served
        self.news = asyncio.Event()
        self.stamp = _Stamp()
        self.served_documents = 0
        self.started = time.time()
        self.generated = 0  # by the rate, since `started`
        self._round_robin = 0
        now = time.time()
        opened = now - backlog * 1e-4 - 0.001  # the first values, before the backlog (times never go back)
        for device in self.devices:
            for key, value in (("avail", "AVAILABLE"), ("estop", "ARMED"), ("mode", "AUTOMATIC"),
                               ("execution", "ACTIVE"), ("program", "O1000"), ("part_count", "0")):
                self._emit(device, key, value, opened)
            self._emit(device, "system", "", opened, level="Normal")
        for i in range(backlog):  # what a collector that was down must catch up with, 100 us apart
            self._generate_one(now - (backlog - i) * 1e-4)

    # -- generating ----------------------------------------------------------------------------------------------

    def _emit(self, device: _Device, key: str, value: str, moment: float, *, level: str = "", code: str = "",
              text: str = "") -> int:
        suffix, item_type, _, slot, element = ITEMS[key]
        sequence = self.next
        self.next += 1
        attributes = f'dataItemId="{device.prefix}{suffix}" timestamp="{self.stamp(moment)}" sequence="{sequence}"'
        if level:
            code_attribute = f' nativeCode="{code}"' if code else ""
            xml = f'<{level} {attributes} type="{item_type}"{code_attribute}>{escape(text)}</{level}>'
        else:
            xml = f"<{element} {attributes}>{escape(value)}</{element}>"
        self.entries.append((device.index, slot, xml))
        device.sequences.append(sequence)
        device.latest[key] = (sequence, xml)
        if key == "execution":
            device.executions.append(sequence)
        return sequence

    def _generate_one(self, moment: float) -> None:
        device = self.devices[self._round_robin % len(self.devices)]
        self._round_robin += 1
        key = MIX[device.position % len(MIX)]
        device.position += 1
        if key == "execution" and device.pinned:
            key = "part_count"
        if key == "part_count":
            device.parts += 1
            self._emit(device, key, str(device.parts), moment)
        elif key == "program":
            device.program += device.position % 16 == 0
            self._emit(device, key, f"O{device.program}", moment)
        elif key == "system":
            device.warning = not device.warning
            if device.warning:
                self._emit(device, key, "", moment, level="Warning", code="W100", text="Coolant level low")
            else:
                self._emit(device, key, "", moment, level="Normal", code="W100")
        elif key == "execution":
            device.active = not device.active
            self._emit(device, key, "ACTIVE" if device.active else "FEED_HOLD", moment)
        elif key == "mode":
            self._emit(device, key, "AUTOMATIC", moment)
        else:
            self._emit(device, key, "AVAILABLE", moment)

    def _trim(self) -> None:
        excess = len(self.entries) - self.buffer_size
        if excess > max(1000, self.buffer_size // 20):  # in chunks: deleting a list's head is a copy
            del self.entries[:excess]
            self.first += excess

    def _announce(self) -> None:
        self.news.set()
        self.news = asyncio.Event()

    async def generate(self) -> None:
        """The rate, evenly: every 20 ms the observations due since the start."""
        while True:
            await asyncio.sleep(0.02)
            now = time.time()
            due = int((now - self.started) * self.rate) - self.generated
            if due > 0:
                for _ in range(due):
                    self._generate_one(now)
                self.generated += due
                self._trim()
                self._announce()

    def change(self, device: _Device, execution: str) -> tuple[int, float]:
        moment = time.time()
        sequence = self._emit(device, "execution", execution, moment)
        device.active = execution == "ACTIVE"
        self.watched[sequence] = None
        self._announce()
        return sequence, moment

    # -- documents -----------------------------------------------------------------------------------------------

    def _header(self, *, next_sequence: int | None = None) -> str:
        sequences = ""
        if next_sequence is not None:
            sequences = f' nextSequence="{next_sequence}" firstSequence="{self.first}" lastSequence="{self.next - 1}"'
        return (f'<Header creationTime="{self.stamp(time.time())}" sender="bench" instanceId="{self.instance_id}" '
                f'version="2.0.1.0" bufferSize="{self.buffer_size}"{sequences}/>')

    def probe(self) -> bytes:
        parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<MTConnectDevices xmlns="{DEVICES_NS}">',
                 self._header(), "<Devices>"]
        for device in self.devices:
            def item(key: str, device: _Device = device) -> str:
                suffix, item_type, category, _, _ = ITEMS[key]
                return (f'<DataItem id="{device.prefix}{suffix}" name="{suffix}" type="{item_type}" '
                        f'category="{category}"/>')
            parts.append(
                f'<Device id="{device.prefix}dev" name="{device.name}" uuid="{device.uuid}">'
                f'<DataItems>{item("avail")}</DataItems><Components>'
                f'<Controller id="{device.prefix}ctl" name="controller"><DataItems>{item("estop")}{item("mode")}'
                f'{item("system")}</DataItems><Components><Path id="{device.prefix}path" name="path"><DataItems>'
                f'{item("execution")}{item("program")}{item("part_count")}{item("speed")}</DataItems></Path>'
                f"</Components></Controller></Components></Device>")
        parts.append("</Devices></MTConnectDevices>")
        return "".join(parts).encode()

    def streams(self, entries, *, next_sequence: int) -> bytes:
        by_device: dict[int, tuple[list[str], list[str], list[str], list[str]]] = {}
        for index, slot, xml in entries:
            slots = by_device.get(index)
            if slots is None:
                slots = by_device[index] = ([], [], [], [])
            slots[slot].append(xml)
        parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<MTConnectStreams xmlns="{STREAMS_NS}">',
                 self._header(next_sequence=next_sequence), "<Streams>"]
        for index, (device_events, controller_events, condition, path_events) in by_device.items():
            device = self.devices[index]
            parts.append(f'<DeviceStream name="{device.name}" uuid="{device.uuid}">')
            if device_events:
                parts.append(f'<ComponentStream component="Device" name="{device.name}" '
                             f'componentId="{device.prefix}dev"><Events>{"".join(device_events)}</Events>'
                             "</ComponentStream>")
            if controller_events or condition:
                parts.append(f'<ComponentStream component="Controller" name="controller" '
                             f'componentId="{device.prefix}ctl">')
                if controller_events:
                    parts.append(f'<Events>{"".join(controller_events)}</Events>')
                if condition:
                    parts.append(f'<Condition>{"".join(condition)}</Condition>')
                parts.append("</ComponentStream>")
            if path_events:
                parts.append(f'<ComponentStream component="Path" name="path" componentId="{device.prefix}path">'
                             f'<Events>{"".join(path_events)}</Events></ComponentStream>')
            parts.append("</DeviceStream>")
        parts.append("</Streams></MTConnectStreams>")
        return "".join(parts).encode()

    def current(self) -> bytes:
        latest = sorted((sequence, device.index, ITEMS[key][3], xml) for device in self.devices
                        for key, (sequence, xml) in device.latest.items())
        return self.streams([(index, slot, xml) for _, index, slot, xml in latest], next_sequence=self.next)

    def error(self, code: str, message: str) -> bytes:
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<MTConnectError xmlns="{ERROR_NS}">{self._header()}'
                f'<Errors><Error errorCode="{code}">{escape(message)}</Error></Errors></MTConnectError>').encode()

    def sample(self, start: int, count: int) -> tuple[int, bytes, int]:
        """(status, document, the next sequence after it)."""
        if start < self.first or start > self.next:
            message = f"'from' must be greater than or equal to {self.first} and less than or equal to {self.next}."
            return 400, self.error("OUT_OF_RANGE", message), start
        end = min(start + count, self.next)
        return 200, self.streams(self.entries[start - self.first:end - self.first], next_sequence=end), end

    def served(self, start: int, end: int) -> None:
        self.served_documents += 1
        if self.watched:
            now = time.time()
            for sequence, at in self.watched.items():
                if at is None and start <= sequence < end:
                    self.watched[sequence] = now

    def applied(self, cursors: dict[str, int]) -> dict[str, int]:
        observations = executions = 0
        for name, cursor in cursors.items():
            device = self.by_name[name]
            observations += bisect.bisect_left(device.sequences, cursor)
            executions += bisect.bisect_left(device.executions, cursor)
        return {"observations": observations, "executions": executions}

    def stats(self) -> dict:
        return {"agent": self.number, "port": self.port, "instance_id": self.instance_id, "first": self.first,
                "next": self.next, "devices": [device.name for device in self.devices],
                "pinned": [device.name for device in self.devices if device.pinned],
                "served_documents": self.served_documents, "time": time.time()}

    # -- HTTP -----------------------------------------------------------------------------------------------------

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await reader.readline()
                if not request:
                    return
                method, target, _ = request.decode("latin-1").split(" ", 2)
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                body = await reader.readexactly(length) if length else b""
                url = urlsplit(target)
                query = {key: values[-1] for key, values in parse_qs(url.query).items()}
                path = url.path.rstrip("/")
                if path.endswith("/sample") and "interval" in query:
                    await self._stream(writer, query)
                    return
                status, content_type, answer, span = self._answer(method, path, query, body)
                writer.write(f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\nContent-Type: "
                             f"{content_type}\r\nContent-Length: {len(answer)}\r\n\r\n".encode() + answer)
                await writer.drain()
                if span:
                    self.served(*span)
        except (ConnectionError, asyncio.IncompleteReadError, ValueError, asyncio.CancelledError):  # or shut down
            return
        finally:
            writer.close()

    def _answer(self, method: str, path: str, query: dict, body: bytes):
        xml = "text/xml"
        if path == "/probe":
            return 200, xml, self.probe(), None
        if path == "/current":
            return 200, xml, self.current(), (self.first, self.next)
        if path == "/sample":
            start = int(query.get("from", self.first))
            status, document, end = self.sample(start, int(query.get("count", 100)))
            return status, xml, document, (start, end) if status == 200 else None
        if path == "/bench/stats":
            return 200, "application/json", json.dumps(self.stats()).encode(), None
        if path == "/bench/change":
            sequence, at = self.change(self.by_name[query["device"]], query["execution"])
            return 200, "application/json", json.dumps({"sequence": sequence, "at": at}).encode(), None
        if path == "/bench/served":
            served_at = self.watched.get(int(query["sequence"]))
            return 200, "application/json", json.dumps({"served_at": served_at}).encode(), None
        if path == "/bench/applied" and method == "POST":
            return 200, "application/json", json.dumps(self.applied(json.loads(body))).encode(), None
        return 404, xml, self.error("UNSUPPORTED", f"The following path is invalid: {path}"), None

    async def _stream(self, writer: asyncio.StreamWriter, query: dict) -> None:
        start = int(query.get("from", self.next))
        count = int(query.get("count", 100))
        interval = int(query.get("interval", 0)) / 1000
        heartbeat = int(query.get("heartbeat", 10_000)) / 1000
        boundary = secrets.token_hex(16)
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary={boundary}\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n".encode())
        loop = asyncio.get_running_loop()
        last = 0.0
        while True:
            news = self.news
            if self.next <= start:
                with suppress(TimeoutError):  # nothing new: the heartbeat, an empty document
                    await asyncio.wait_for(news.wait(), timeout=heartbeat)
            wait = last + interval - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            status, document, end = self.sample(start, count)
            part = (f"--{boundary}\r\nContent-type: text/xml\r\nContent-length: {len(document)}\r\n\r\n".encode()
                    + document + b"\r\n")
            writer.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            await writer.drain()
            last = loop.time()
            if status != 200:
                return
            self.served(start, end)
            start = end


async def main(args: argparse.Namespace) -> None:
    agents = [FakeAgent(number, args.port + number, devices=args.devices, rate=args.rate / args.agents,
                        buffer_size=args.buffer_size, pinned=args.pinned, backlog=args.backlog, seed=args.seed)
              for number in range(args.agents)]
    servers = [await asyncio.start_server(agent.serve, "127.0.0.1", agent.port, backlog=256) for agent in agents]
    tasks = [asyncio.create_task(agent.generate()) for agent in agents if agent.rate > 0]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(json.dumps({"agents": [agent.stats() for agent in agents]}), flush=True)
    await stop.wait()
    for task in tasks:
        task.cancel()
    for server in servers:
        server.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=1)
    parser.add_argument("--devices", type=int, default=10, help="Devices per agent.")
    parser.add_argument("--rate", type=float, default=100.0, help="Observations per second, all agents together.")
    parser.add_argument("--port", type=int, required=True, help="The first agent's port; the others follow.")
    parser.add_argument("--buffer-size", type=int, default=131_072, help="Observations each agent holds.")
    parser.add_argument("--pinned", type=int, default=0,
                        help="Devices per agent whose execution only /bench/change sets.")
    parser.add_argument("--backlog", type=int, default=0, help="Observations each agent holds already at start.")
    parser.add_argument("--seed", type=int, default=1)
    asyncio.run(main(parser.parse_args()))
