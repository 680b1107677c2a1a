"""Waiting in tests for something asynchronous to happen, without timing assertions."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]], *, timeout: float = 20.0, every: float = 0.05
) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` passes; return its last value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = condition()
        value = await result if inspect.isawaitable(result) else result
        if value or loop.time() >= deadline:
            return bool(value)
        await asyncio.sleep(every)
