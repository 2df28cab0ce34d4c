"""Stored files served to clients."""

from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.core.files.storage import default_storage


async def stream_stored_file(name: str, chunk_size: int) -> AsyncIterator[bytes]:
    """Read a stored file in chunks off the event loop. (Under ASGI, Django reads a response's
    synchronous iterator whole before sending it; an async one is sent as it comes.)"""
    file = await sync_to_async(default_storage.open)(name, "rb")
    try:
        while chunk := await sync_to_async(file.read)(chunk_size):
            yield chunk
    finally:
        await sync_to_async(file.close)()
