"""The demo's embedded broker: kombu's file-system transport, with each message written whole before a worker can
see it. kombu 5.7 creates a message's file under its final name and then writes into it; a worker polling the
folder in between takes an empty file, fails to decode it and stops (the demo then stops with it), and the message
is lost. Here a message is written under a name no reader looks for, then renamed, which is atomic."""

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

ALIAS = "spindlefs"  # the broker URL's scheme: spindlefs://


class Channel(filesystem.Channel):
    # kombu-stubs name the argument "message" in AbstractChannel and "payload" in filesystem.Channel (as kombu does)
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = f"{final}.part"  # readers take only names ending in ".<queue>.msg"
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT_ALIASES[ALIAS] = f"{__name__}:Transport"
