"""MTConnect documents (Devices, Streams, Error) read into plain dataclasses.

Elements are matched by local name, so MTConnect 1.x to 2.x namespaces (and documents with none) read the
same. Data items are recognised by their `type` from /probe, never by their name: `execution` on one control
is `pexecution` or `Program_Status` on another.
"""

import datetime as dt
import logging
import re
from dataclasses import dataclass, field

from lxml import etree

from machines.connectivity.observations import Kind, Observation
from machines.connectivity.xmldoc import (
    MAX_DOCUMENT_BYTES,
    DocumentError,
    child,
    children,
    descendants,
    local_name,
    parse,
)

logger = logging.getLogger(__name__)

_KIND_BY_TYPE = {
    "AVAILABILITY": Kind.AVAILABILITY,
    "EMERGENCY_STOP": Kind.EMERGENCY_STOP,
    "CONTROLLER_MODE": Kind.CONTROLLER_MODE,
    "EXECUTION": Kind.EXECUTION,
    "PART_COUNT": Kind.PART_COUNT,
    "PROGRAM": Kind.PROGRAM,
}
# PART_COUNT without a subType counts every part; TARGET, REMAINING and the like are not counts of made parts.
_PART_COUNT_SUB_TYPES = {"": "ALL", "ALL": "ALL", "GOOD": "GOOD", "BAD": "BAD"}
_CONDITION_LEVELS = {"Normal": "NORMAL", "Warning": "WARNING", "Fault": "FAULT", "Unavailable": "UNAVAILABLE"}
_TIMESTAMP = re.compile(
    r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$"
)


@dataclass(frozen=True, slots=True)
class DataItem:
    id: str
    name: str
    type: str
    sub_type: str
    category: str

    @property
    def kind(self) -> Kind | None:
        if self.category == "CONDITION":
            return Kind.CONDITION
        kind = _KIND_BY_TYPE.get(self.type)
        if kind is Kind.PART_COUNT and self.sub_type not in _PART_COUNT_SUB_TYPES:
            return None
        return kind


@dataclass(frozen=True, slots=True)
class Device:
    id: str
    name: str
    uuid: str
    data_items: dict[str, DataItem] = field(default_factory=dict)  # by id: the Spindle-relevant ones only

    def answers_to(self, key: str) -> bool:
        """A machine names its device by name or by uuid."""
        return key in (self.name, self.uuid)


@dataclass(frozen=True, slots=True)
class Header:
    instance_id: str
    creation_time: dt.datetime | None
    first_sequence: int | None = None  # Streams documents only
    next_sequence: int | None = None
    last_sequence: int | None = None


@dataclass(frozen=True, slots=True)
class Probe:
    header: Header
    devices: tuple[Device, ...]
    warnings: tuple[str, ...] = ()

    def device(self, key: str) -> Device | None:
        return next((d for d in self.devices if d.answers_to(key)), None)


@dataclass(frozen=True, slots=True)
class Streams:
    header: Header
    observations: dict[str, list[Observation]]  # by device uuid (name where an old agent gives no uuid)
    warnings: tuple[str, ...] = ()

    def of(self, device: Device) -> list[Observation]:
        return self.observations.get(device.uuid or device.name, [])


@dataclass(frozen=True, slots=True)
class AgentError:
    """An MTConnectError document: the agent refused the request (OUT_OF_RANGE, NO_DEVICE, ...)."""

    header: Header | None
    codes: tuple[str, ...]
    message: str

    @property
    def out_of_range(self) -> bool:
        return "OUT_OF_RANGE" in self.codes


def parse_timestamp(text: str) -> dt.datetime:
    """An agent's timestamp as an aware UTC datetime. Agents write UTC with or without `Z`, with up to 7
    fractional digits (.NET ticks); Python keeps 6, so the 7th is dropped, not rounded."""
    match = _TIMESTAMP.match(text.strip())
    if not match:
        raise ValueError(f"not an MTConnect timestamp: {text!r}")
    whole, fraction, zone = match.groups()
    moment = dt.datetime.fromisoformat(whole).replace(tzinfo=dt.UTC)
    if fraction:
        moment = moment.replace(microsecond=int(fraction[:6].ljust(6, "0")))
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        hours, minutes = int(zone[1:3]), int(zone[-2:])
        moment -= sign * dt.timedelta(hours=hours, minutes=minutes)
    return moment


def _int(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None


def _header(root: etree._Element) -> Header:
    element = child(root, "Header")
    if element is None:
        raise DocumentError(f"{local_name(root)} document without a Header")
    created = element.get("creationTime")
    try:
        creation_time = parse_timestamp(created) if created else None
        return Header(
            instance_id=element.get("instanceId", ""),
            creation_time=creation_time,
            first_sequence=_int(element.get("firstSequence")),
            next_sequence=_int(element.get("nextSequence")),
            last_sequence=_int(element.get("lastSequence")),
        )
    except ValueError as exc:
        raise DocumentError(f"unreadable Header: {exc}") from exc


def _expect(root: etree._Element, *names: str) -> str:
    name = local_name(root)
    if name not in names:
        raise DocumentError(f"expected {' or '.join(names)}, got <{name}>")
    return name


def read_error(root: etree._Element) -> AgentError:
    errors = [e for e in root.iter() if isinstance(e.tag, str) and e.get("errorCode")]
    codes = tuple(e.get("errorCode", "") for e in errors)
    message = "; ".join(" ".join("".join(e.itertext()).split()) for e in errors)
    header = _header(root) if child(root, "Header") is not None else None
    return AgentError(header=header, codes=codes, message=message or "agent error")


def read_probe(data: bytes, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> Probe | AgentError:
    document = parse(data, max_bytes=max_bytes)
    root = document.root
    if _expect(root, "MTConnectDevices", "MTConnectError") == "MTConnectError":
        return read_error(root)
    devices = []
    for element in descendants(root, "Device"):
        items = {}
        for item in descendants(element, "DataItem"):
            data_item = DataItem(
                id=item.get("id", ""),
                name=item.get("name", ""),
                type=item.get("type", ""),
                sub_type=item.get("subType", ""),
                category=item.get("category", ""),
            )
            if data_item.kind is not None and data_item.id:
                items[data_item.id] = data_item
        devices.append(
            Device(id=element.get("id", ""), name=element.get("name", ""), uuid=element.get("uuid", ""),
                   data_items=items)
        )
    return Probe(header=_header(root), devices=tuple(devices), warnings=document.warnings)


def read_streams(
    data: bytes, devices: tuple[Device, ...], *, max_bytes: int = MAX_DOCUMENT_BYTES
) -> Streams | AgentError:
    """The observations of the given devices' known data items, per device, in sequence order."""
    document = parse(data, max_bytes=max_bytes)
    root = document.root
    if _expect(root, "MTConnectStreams", "MTConnectError") == "MTConnectError":
        return read_error(root)
    header = _header(root)
    result: dict[str, list[Observation]] = {}
    streams = child(root, "Streams")
    for stream in children(streams, "DeviceStream") if streams is not None else []:
        device = next(
            (d for d in devices if d.uuid and d.uuid == stream.get("uuid")), None
        ) or next((d for d in devices if d.name == stream.get("name")), None)
        if device is None:
            continue  # another device on the same agent
        found = [o for o in (_observation(e, device) for e in stream.iter()) if o is not None]
        found.sort(key=lambda o: o.sequence or 0)
        result[device.uuid or device.name] = found
    return Streams(header=header, observations=result, warnings=document.warnings)


def _observation(element: etree._Element, device: Device) -> Observation | None:
    item = device.data_items.get(element.get("dataItemId", ""))
    if item is None or item.kind is None:
        return None
    try:
        timestamp = parse_timestamp(element.get("timestamp", ""))
        sequence = int(element.get("sequence", ""))
    except ValueError as exc:
        # One unreadable observation must not stall the whole stream on the same document forever.
        logger.warning("MTConnect observation %s of %s skipped: %s", item.id, device.name, exc)
        return None
    text = " ".join((element.text or "").split())
    if item.kind is Kind.CONDITION:
        level = _CONDITION_LEVELS.get(local_name(element))
        if level is None:
            return None
        return Observation(
            kind=Kind.CONDITION, value=level, timestamp=timestamp, sequence=sequence, data_item_id=item.id,
            sub_type=element.get("type") or item.type, native_code=element.get("nativeCode", ""), text=text,
        )
    sub_type = _PART_COUNT_SUB_TYPES[item.sub_type] if item.kind is Kind.PART_COUNT else item.sub_type
    return Observation(
        kind=item.kind, value=text, timestamp=timestamp, sequence=sequence, data_item_id=item.id, sub_type=sub_type
    )
