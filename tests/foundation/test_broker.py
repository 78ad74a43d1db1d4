"""The embedded broker: a message is never seen half-written, however fast the worker polls."""

from __future__ import annotations

import threading

from kombu import Connection

from saypro.broker import Transport


def _connection(folder) -> Connection:
    return Connection(
        "filesystem://",
        transport=Transport,
        transport_options={
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(folder / "control"),
            "store_processed": False,
            "polling_interval": 0,
        },
    )


def test_a_consumer_polling_while_messages_are_written_reads_every_one_whole(tmp_path):
    count = 300
    body = {"task": "x" * 20_000}  # big enough that a write is not one instant
    received: list[dict] = []
    errors: list[BaseException] = []

    def consume() -> None:
        try:
            with _connection(tmp_path) as connection, connection.SimpleQueue("race") as queue:
                while len(received) < count:
                    message = queue.get(timeout=30)
                    received.append(message.payload)
                    message.ack()
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    consumer = threading.Thread(target=consume)
    consumer.start()
    with _connection(tmp_path) as connection, connection.SimpleQueue("race") as queue:
        for n in range(count):
            queue.put({**body, "n": n})
    consumer.join(timeout=120)

    assert not errors, errors
    assert sorted(message["n"] for message in received) == list(range(count))
    assert all(message["task"] == body["task"] for message in received)
    assert not [path for path in tmp_path.iterdir() if path.suffix == ".part"]
