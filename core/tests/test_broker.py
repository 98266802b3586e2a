"""The demo's file-system broker: a worker polling the folder never takes a message that is still being written."""

import os
from queue import Empty

import pytest
from kombu import Connection

from core import broker


@pytest.fixture
def channel(tmp_path):
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path), "store_processed": False}
    with Connection(f"{broker.ALIAS}://", transport_options=options) as connection:
        yield connection.default_channel


def test_a_message_shows_under_a_readers_name_only_once_it_is_whole(channel, tmp_path, monkeypatch):
    before_rename = []
    rename = os.replace

    def watched(source, target):
        before_rename.extend((path.name, path.read_bytes()) for path in tmp_path.iterdir())
        rename(source, target)

    monkeypatch.setattr(broker.os, "replace", watched)
    channel._put("celery", {"body": "hello"})
    [(name, content)] = before_rename
    assert name.endswith(".celery.msg.part") and b"hello" in content  # written whole, invisible to readers
    assert channel._get("celery") == {"body": "hello"}


def test_a_file_still_being_written_is_left_alone(channel, tmp_path):
    (tmp_path / "1_a.celery.msg.part").write_bytes(b"")  # what a worker could meet while a message is written
    with pytest.raises(Empty):
        channel._get("celery")
    channel._put("celery", {"body": "next"})
    assert channel._get("celery") == {"body": "next"}
