"""Reading agent documents: the recorded probes, Streams in 1.3, 2.x and no namespace, errors, hostile XML."""

import datetime as dt
import time

import pytest

from machines.connectivity import replay
from machines.connectivity.mtconnect import AgentError, Probe, Streams, parse_timestamp, read_probe, read_streams
from machines.connectivity.observations import Kind
from machines.connectivity.xmldoc import DocumentError, parse


def probe(name: str) -> Probe:
    result = read_probe((replay.RECORDINGS / name / "probe.xml").read_bytes())
    assert isinstance(result, Probe)
    return result


def streams(body: str, devices) -> Streams:
    result = read_streams(body.encode(), devices)
    assert isinstance(result, Streams)
    return result


def test_the_okuma_probe_names_its_data_items_its_own_way_and_they_are_known_by_type():
    (okuma,) = probe("okuma").devices
    kinds = {item.id: (item.kind, item.sub_type) for item in okuma.data_items.values()}
    assert kinds == {
        "Lavail": (Kind.AVAILABILITY, ""),
        "Lestop": (Kind.EMERGENCY_STOP, ""),
        "Lsystem": (Kind.CONDITION, ""),
        "Lpmode": (Kind.CONTROLLER_MODE, ""),
        "Lpprogram": (Kind.PROGRAM, ""),
        "Lpexecution": (Kind.EXECUTION, ""),
        "Lppartcount": (Kind.PART_COUNT, ""),
        "LCoolantSystem1_cond": (Kind.CONDITION, ""),
        "LHydraulicSystem1_cond": (Kind.CONDITION, ""),
    }


def test_an_agent_of_two_devices_answers_by_name_and_by_uuid():
    recorded = probe("vmc-haas")
    assert recorded.header.instance_id == "1267728234"
    assert recorded.device("VMC-3Axis") is recorded.device("000")
    assert recorded.device("haas-001").name == "Haas_1"
    assert recorded.device("Mazak") is None
    vmc = recorded.device("VMC-3Axis")
    assert vmc.data_items["cn6"].kind is Kind.EXECUTION
    assert vmc.data_items["filter"].kind is Kind.CONDITION and vmc.data_items["filter"].type == "x:FILTER"
    assert "c2" not in vmc.data_items  # spindle speed: not read


STREAMS_13 = """<?xml version="1.0" encoding="UTF-8"?>
<MTConnectStreams xmlns:m="urn:mtconnect.org:MTConnectStreams:1.3" xmlns="urn:mtconnect.org:MTConnectStreams:1.3">
  <Header creationTime="2024-05-06T07:00:10" sender="agent" instanceId="1267728234" version="1.3.0.18"
    bufferSize="131072" nextSequence="48" firstSequence="1" lastSequence="60"/>
  <Streams>
    <DeviceStream name="VMC-3Axis" uuid="000">
      <ComponentStream component="Path" name="path" componentId="pth">
        <Events>
          <Execution dataItemId="cn6" timestamp="2024-05-06T07:00:10.123456" sequence="46"
            name="execution">ACTIVE</Execution>
          <ControllerMode dataItemId="cn3" timestamp="2024-05-06T07:00:00" sequence="12"
            name="mode">AUTOMATIC</ControllerMode>
          <PartCount dataItemId="pcbad" timestamp="2024-05-06T07:00:00Z" sequence="14"
            subType="BAD">UNAVAILABLE</PartCount>
          <Block dataItemId="cn2" timestamp="2024-05-06T07:00:00Z" sequence="13">G01 X1</Block>
        </Events>
      </ComponentStream>
      <ComponentStream component="Coolant" name="coolant" componentId="cool">
        <Samples><x:Flow dataItemId="cflow" timestamp="2024-05-06T07:00:10Z" sequence="47">12.5</x:Flow></Samples>
        <Condition>
          <Warning dataItemId="filter" timestamp="2024-05-06T07:00:10Z" sequence="45" type="x:FILTER"
            nativeCode="CF-7" nativeSeverity="2">COOLANT FILTER
            CLOGGED</Warning>
        </Condition>
      </ComponentStream>
    </DeviceStream>
    <DeviceStream name="Haas_1" uuid="haas-001">
      <ComponentStream component="Controller" name="Controller" componentId="hc">
        <Events><Execution dataItemId="hc3" timestamp="2024-05-06T07:00:10Z" sequence="44">READY</Execution></Events>
      </ComponentStream>
    </DeviceStream>
  </Streams>
</MTConnectStreams>"""


def test_a_13_document_with_an_undeclared_vendor_prefix_is_read_with_a_warning():
    devices = probe("vmc-haas").devices
    document = streams(STREAMS_13, devices)
    vmc, haas = (document.of(d) for d in devices)
    assert [(o.sequence, o.kind, o.value, o.sub_type) for o in vmc] == [
        (12, Kind.CONTROLLER_MODE, "AUTOMATIC", ""),
        (14, Kind.PART_COUNT, "UNAVAILABLE", "BAD"),
        (45, Kind.CONDITION, "WARNING", "x:FILTER"),
        (46, Kind.EXECUTION, "ACTIVE", ""),
    ]
    assert vmc[2].native_code == "CF-7" and vmc[2].text == "COOLANT FILTER CLOGGED"
    assert vmc[3].timestamp == dt.datetime(2024, 5, 6, 7, 0, 10, 123456, tzinfo=dt.UTC)  # no Z: UTC
    assert [o.value for o in haas] == ["READY"]
    assert document.header.next_sequence == 48 and document.header.first_sequence == 1
    assert document.warnings == ("Namespace prefix x on Flow is not defined",)


@pytest.mark.parametrize(
    "namespace",
    ['xmlns="urn:mtconnect.org:MTConnectStreams:2.5"', 'xmlns="urn:mtconnect.org:MTConnectStreams:1.1"', ""],
)
def test_streams_read_the_same_in_any_namespace(namespace):
    (okuma,) = probe("okuma").devices
    body = f"""<MTConnectStreams {namespace}><Header instanceId="7" nextSequence="9" firstSequence="1"
      lastSequence="8" creationTime="2022-08-08T13:51:36.7711738Z"/><Streams>
      <DeviceStream name="OKUMA" uuid="OKUMA.123456"><ComponentStream component="Controller" componentId="Lct1">
        <Events><Execution dataItemId="Lpexecution" sequence="7"
          timestamp="2022-08-08T13:51:36.7711738Z">ACTIVE</Execution>
        <PartCount dataItemId="Lppartcount" sequence="8" timestamp="2022-08-08T13:51:36.7711738Z">3</PartCount></Events>
        <Condition><Normal dataItemId="Lsystem" sequence="6" timestamp="2022-08-08T13:51:34.7167146Z" type="SYSTEM"/>
        </Condition></ComponentStream></DeviceStream></Streams></MTConnectStreams>"""
    observed = streams(body, (okuma,)).of(okuma)
    assert [(o.kind, o.value, o.sub_type) for o in observed] == [
        (Kind.CONDITION, "NORMAL", "SYSTEM"), (Kind.EXECUTION, "ACTIVE", ""), (Kind.PART_COUNT, "3", "ALL"),
    ]
    assert observed[1].timestamp == dt.datetime(2022, 8, 8, 13, 51, 36, 771173, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-08-08T13:51:36.7711738Z", dt.datetime(2022, 8, 8, 13, 51, 36, 771173, tzinfo=dt.UTC)),
        ("2023-04-14T09:56:15.650729Z", dt.datetime(2023, 4, 14, 9, 56, 15, 650729, tzinfo=dt.UTC)),
        ("2024-05-06T07:00:10", dt.datetime(2024, 5, 6, 7, 0, 10, tzinfo=dt.UTC)),
        ("2024-05-06T07:00:10.5", dt.datetime(2024, 5, 6, 7, 0, 10, 500000, tzinfo=dt.UTC)),
        ("2009-03-22T01:50:29+00:00", dt.datetime(2009, 3, 22, 1, 50, 29, tzinfo=dt.UTC)),
        ("2009-03-22T03:50:29+02:00", dt.datetime(2009, 3, 22, 1, 50, 29, tzinfo=dt.UTC)),
    ],
)
def test_timestamps_are_utc_with_or_without_z(text, expected):
    assert parse_timestamp(text) == expected


def test_an_observation_with_an_unreadable_timestamp_is_skipped_not_the_document():
    (okuma,) = probe("okuma").devices
    body = """<MTConnectStreams><Header instanceId="7" nextSequence="9"/><Streams><DeviceStream uuid="OKUMA.123456">
      <ComponentStream component="Controller"><Events>
      <Execution dataItemId="Lpexecution" sequence="7" timestamp="TIME">ACTIVE</Execution>
      <ControllerMode dataItemId="Lpmode" sequence="8" timestamp="2022-08-08T13:51:36Z">MANUAL</ControllerMode>
      </Events></ComponentStream></DeviceStream></Streams></MTConnectStreams>"""
    assert [o.value for o in streams(body, (okuma,)).of(okuma)] == ["MANUAL"]


@pytest.mark.parametrize(
    "errors",
    [
        '<Errors><Error errorCode="OUT_OF_RANGE">\'from\' must be greater than or equal to 210.</Error></Errors>',
        '<Errors><OutOfRange errorCode="OUT_OF_RANGE"><ErrorMessage>\'from\' must be greater than or equal to '
        "210.</ErrorMessage></OutOfRange></Errors>",
    ],
    ids=["1.x", "2.x"],
)
def test_an_out_of_range_error_document_is_an_agent_error(errors):
    body = f"""<MTConnectError xmlns="urn:mtconnect.org:MTConnectError:2.0"><Header instanceId="7"
      creationTime="2024-05-06T07:00:10Z"/>{errors}</MTConnectError>"""
    result = read_streams(body.encode(), ())
    assert isinstance(result, AgentError) and result.out_of_range
    assert result.message == "'from' must be greater than or equal to 210."


def test_a_billion_laughs_is_refused_without_expanding():
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    bomb = f'<?xml version="1.0"?><!DOCTYPE lolz [{entities}]><MTConnectStreams>&lol9;</MTConnectStreams>'
    started = time.perf_counter()
    with pytest.raises(DocumentError, match="DTD"):
        parse(bomb.encode())
    assert time.perf_counter() - started < 0.1


def test_an_external_entity_is_refused():
    xxe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><MTConnectStreams>&e;</MTConnectStreams>'
    with pytest.raises(DocumentError, match="DTD"):
        parse(xxe)


def test_a_document_over_the_cap_is_refused_with_a_clear_error():
    with pytest.raises(DocumentError, match="over the 1000-byte cap"):
        parse(b"<MTConnectStreams>" + b" " * 1000 + b"</MTConnectStreams>", max_bytes=1000)


@pytest.mark.parametrize(
    "body",
    [STREAMS_13[: len(STREAMS_13) // 2], STREAMS_13.replace("</Events>", "", 1), "<html>Bad gateway", ""],
    ids=["truncated", "unclosed", "not-xml", "empty"],
)
def test_a_malformed_document_is_an_error_not_a_repaired_tree(body):
    with pytest.raises(DocumentError):
        read_streams(body.encode(), probe("vmc-haas").devices)


def test_the_wrong_document_is_an_error():
    with pytest.raises(DocumentError, match="expected MTConnectStreams"):
        read_streams((replay.RECORDINGS / "okuma" / "probe.xml").read_bytes(), ())
