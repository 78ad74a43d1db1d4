"""The embedded broker (no server): Kombu's filesystem transport, with files that appear whole.

Kombu creates a message's file, and a new exchange's routing table, under its final name and writes it
afterwards; a worker polling the folder can read the file in between, find it empty, and die on the JSON it
cannot decode. Here both are written under a name no reader looks at and then moved into place, which is atomic
within one folder.
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

    def _queue_bind(self, exchange: str, routing_key: str, pattern: str | None, queue: str) -> None:
        table = self._exchange_file(exchange)  # type: ignore[attr-defined]  # (missing from the stubs)
        self.control_folder.mkdir(exist_ok=True)
        if not table.exists():
            partial = table.with_name(f".{table.name}.{uuid.uuid4()}.part")
            partial.write_bytes(str_to_bytes(dumps([])))
            try:
                # Unlike a rename, a link never replaces the table another process created in the meantime.
                os.link(partial, table)
            except FileExistsError:
                pass
            finally:
                partial.unlink()
        # The table exists now: Kombu's own bind adds the queue to it under an exclusive lock.
        super()._queue_bind(exchange, routing_key, pattern, queue)


class Transport(filesystem.Transport):
    Channel = Channel
