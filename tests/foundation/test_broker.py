"""The embedded broker: a message or a routing table is never seen half-written, however fast the worker polls."""

from __future__ import annotations

import multiprocessing

from kombu import Connection

from saypro.broker import Transport

COUNT = 300
FILLER = "x" * 20_000  # big enough that writing a message is not one instant


def _connection(folder: str) -> Connection:
    return Connection(
        "filesystem://",
        transport=Transport,
        transport_options={
            "data_folder_in": folder,
            "data_folder_out": folder,
            "control_folder": f"{folder}/control",
            "store_processed": False,
            "polling_interval": 0,
        },
    )


def _consume(folder: str, results: multiprocessing.Queue) -> None:
    """The worker's side, in a process of its own as a worker is."""
    received: list[int] = []
    try:
        with _connection(folder) as connection, connection.SimpleQueue("race") as queue:
            while len(received) < COUNT:
                message = queue.get(timeout=30)
                assert message.payload["filler"] == FILLER
                received.append(message.payload["n"])
                message.ack()
        results.put(("ok", received))
    except BaseException as error:  # reported by the test
        results.put(("error", repr(error)))


def test_a_worker_polling_while_messages_are_written_reads_every_one_whole(tmp_path):
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    worker = context.Process(target=_consume, args=(str(tmp_path), results))
    worker.start()
    # Declared while the worker declares the same queue: the routing table is created by one of them, whole.
    with _connection(str(tmp_path)) as connection, connection.SimpleQueue("race") as queue:
        for n in range(COUNT):
            queue.put({"n": n, "filler": FILLER})
    outcome, received = results.get(timeout=120)
    worker.join(timeout=30)

    assert outcome == "ok", received
    assert sorted(received) == list(range(COUNT))
    assert not [path.name for path in tmp_path.rglob("*.part")]
