"""Upload streaming: a request body's chunks read as a file by the storage backend, counted,
hashed and capped on the way (``services.node_output_create``)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from heatportal.services import TooLarge


class CountingReader:
    """A file-like view of a chunk iterator that hashes and counts what passes through, and
    stops with TooLarge once more than ``limit`` bytes have come."""

    def __init__(self, chunks: Iterator[bytes], limit: int):
        self._chunks = chunks
        self._buffer = b""
        self._limit = limit
        self.size = 0
        self.sha256 = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, b"")
            if not chunk:
                break
            self.size += len(chunk)
            if self.size > self._limit:
                raise TooLarge(f"Upload larger than {self._limit} bytes.")
            self.sha256.update(chunk)
            self._buffer += chunk
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


class StreamFile:
    """The smallest file object that Django storages accept: ``chunks()`` and ``read()``."""

    def __init__(self, reader: CountingReader, chunk_size: int):
        self._reader = reader
        self._chunk_size = chunk_size
        self.name = None
        self.size = None

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        while chunk := self._reader.read(chunk_size or self._chunk_size):
            yield chunk

    def read(self, size: int = -1) -> bytes:
        return self._reader.read(size)

    def close(self) -> None:
        pass
