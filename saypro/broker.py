"""The embedded broker (no server): Kombu's filesystem transport, with messages that appear in the queue whole.

Kombu creates a message's file under its final name and writes it afterwards; a worker polling the folder can
move and read the file in between, find it empty, and die on the JSON it cannot decode. Here a message is
written under a name no reader matches and renamed into place, which is atomic within one folder.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    # The signature of Kombu's filesystem channel, which its stubs declare unlike the base channel's.
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        # Readers take "<stamp>_<id>.<queue>.msg", so a leading dot and a suffix keep the partial file invisible.
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{name}.part")
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
