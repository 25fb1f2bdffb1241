"""The dev server's event stream (server-sent events): build results pushed to open pages.

Subscribers are queues on the server's event loop. ``publish`` runs on that
loop; ``end_all_threadsafe`` may be called from any thread (shutdown hooks,
tests) and hands over to the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

# Seconds between keep-alive comments, so proxies and browsers keep an idle stream open.
KEEP_ALIVE = 15


class EventHub:
    """Open event streams; each gets every event published after it opened."""

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[tuple[str, str] | None]] = set()
        self.loop: asyncio.AbstractEventLoop | None = None  # set when the server starts

    def publish(self, name: str, data: str) -> None:
        for queue in list(self._subscribers):
            queue.put_nowait((name, data))

    def end_all(self) -> None:
        """Close every open stream (on the loop)."""
        for queue in list(self._subscribers):
            queue.put_nowait(None)

    def end_all_threadsafe(self) -> None:
        """Close every open stream; callable from any thread."""
        loop = self.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.end_all)

    async def stream(self, hello: Callable[[], str]) -> AsyncIterator[str]:
        """One subscriber's stream, starting with a ``hello`` event carrying ``hello()``."""
        queue: asyncio.Queue[tuple[str, str] | None] = asyncio.Queue()
        self._subscribers.add(queue)
        try:
            yield f"retry: 1000\nevent: hello\ndata: {hello()}\n\n"
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), KEEP_ALIVE)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if item is None:
                    return
                yield f"event: {item[0]}\ndata: {item[1]}\n\n"
        finally:
            self._subscribers.discard(queue)
