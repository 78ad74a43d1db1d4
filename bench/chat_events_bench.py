"""Live chat's event streams: delivery latency from a chat event sent to the channel layer to the frame a
server-sent event stream yields, with many chats streaming at once in one ASGI process.

    REDIS_URL=redis://127.0.0.1:6379/8 .venv/bin/python bench/chat_events_bench.py [--chats 200] [--messages 20]

Each chat has one stream (`support.events._stream`, the generator the view returns, subscribed to the chat's
group); a sender sends `--messages` message events to every chat's group, one round every 50 ms, as agents'
sockets do. Reported: frames delivered, latency percentiles (send to frame), and the process's CPU time. The
HTTP framing around the generator and the database are left out: the stream's cost is the layer and the loop.
Without REDIS_URL the in-memory layer is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


async def main(chats: int, messages: int) -> None:
    from channels.layers import get_channel_layer

    from support.consumers import chat_group
    from support.events import _stream
    from support.models import Ticket

    layer = get_channel_layer()
    assert layer is not None
    latencies: list[float] = []
    streams = [_stream(Ticket(pk=10_000_000 + n), None) for n in range(chats)]
    # The first frame (retry) is yielded once the stream has joined its group.
    for stream in streams:
        await stream.__anext__()

    async def read(stream, expected: int) -> None:
        for _ in range(expected):
            frame = await stream.__anext__()
            if frame.startswith(":"):
                continue
            data = json.loads(frame.split("data: ", 1)[1])
            latencies.append(time.perf_counter() - float(data["body"]))

    readers = [asyncio.ensure_future(read(stream, messages)) for stream in streams]
    cpu, wall = time.process_time(), time.perf_counter()
    for round_ in range(messages):
        for n in range(chats):
            event = {"type": "message", "id": round_ + 1, "kind": "reply", "author": "", "created_at": ""}
            event["body"] = repr(time.perf_counter())
            await layer.group_send(chat_group(10_000_000 + n), {"type": "chat.event", "event": event})
        await asyncio.sleep(0.05)
    await asyncio.wait_for(asyncio.gather(*readers), timeout=120)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    for stream in streams:
        await stream.aclose()
    latencies.sort()
    quantile = statistics.quantiles(latencies, n=100)
    print(f"layer: {type(layer).__name__}; chats streaming: {chats}; messages per chat: {messages}")
    print(f"frames delivered: {len(latencies)} of {chats * messages} in {wall:.2f} s wall, {cpu:.2f} s CPU")
    print(
        f"latency ms: p50 {quantile[49] * 1000:.1f}, p95 {quantile[94] * 1000:.1f}, "
        f"p99 {quantile[98] * 1000:.1f}, max {latencies[-1] * 1000:.1f}"
    )
    print(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--messages", type=int, default=20)
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saypro.settings")
    import django

    django.setup()
    asyncio.run(main(options.chats, options.messages))
