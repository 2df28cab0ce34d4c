"""Upload bodies: bytes, a path, a binary file object or an iterator of bytes, streamed in chunks
and never read whole into memory (except bytes, which already are)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator
from typing import IO, Any

CHUNK_SIZE = 64 * 1024

UploadData = bytes | bytearray | memoryview | str | os.PathLike[Any] | IO[bytes] | Iterable[bytes]
"""What ``upload_node_output`` accepts."""


class UploadBody:
    """One upload's bytes. ``rewindable`` bodies can be sent again (a retry after a 401);
    ``length`` is None when it is unknown, and the body then goes out chunked."""

    rewindable: bool = False
    length: int | None = None

    def open(self) -> bytes | Iterator[bytes]:
        """The content for one attempt, from the start."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what :meth:`open` acquired (called after every attempt)."""


class _BytesBody(UploadBody):
    rewindable = True

    def __init__(self, data: bytes):
        self._data = data
        self.length = len(data)

    def open(self) -> bytes:
        return self._data


class _PathBody(UploadBody):
    """A file named by path, opened afresh for each attempt."""

    rewindable = True

    def __init__(self, path: str | os.PathLike[Any]):
        self._path = path
        self.length = os.path.getsize(path)  # also fails early, before any request, if it is missing
        self._file: IO[bytes] | None = None

    def open(self) -> Iterator[bytes]:
        self._file = open(self._path, "rb")  # noqa: SIM115 (closed by close(), after the request)
        return _read_chunks(self._file)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class _SeekableStreamBody(UploadBody):
    """A seekable binary file object, uploaded from its current position; a retry seeks back
    there. The caller keeps ownership: it is not closed."""

    rewindable = True

    def __init__(self, stream: IO[bytes]):
        self._stream = stream
        self._start = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(self._start)
        self.length = max(end - self._start, 0)

    def open(self) -> Iterator[bytes]:
        self._stream.seek(self._start)
        return _read_chunks(self._stream)


class _OneShotBody(UploadBody):
    """A stream that cannot be rewound, or an iterator of bytes: it can be sent only once."""

    rewindable = False

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks: Iterator[bytes] | None = chunks

    def open(self) -> Iterator[bytes]:
        if self._chunks is None:
            raise RuntimeError("A one-shot upload body was opened twice.")
        chunks, self._chunks = self._chunks, None
        return chunks


def _as_bytes(chunk: Any) -> bytes:
    if isinstance(chunk, bytes):
        return chunk
    if isinstance(chunk, bytearray | memoryview):
        return bytes(chunk)
    raise TypeError(
        f"Upload data must be bytes, got a chunk of type {type(chunk).__name__} "
        "(open files in binary mode, 'rb', and yield bytes from iterators)."
    )


def _read_chunks(stream: IO[bytes]) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK_SIZE):
        yield _as_bytes(chunk)


def _iterate_chunks(chunks: Iterable[Any]) -> Iterator[bytes]:
    for chunk in chunks:
        data = _as_bytes(chunk)
        if data:  # an empty chunk would end a chunked body early
            yield data


def upload_body(data: UploadData) -> UploadBody:
    """The body for ``data``; TypeError for text and other unsupported types, OSError for a
    path that cannot be read."""
    if isinstance(data, bytes | bytearray | memoryview):
        return _BytesBody(bytes(data))
    if isinstance(data, str | os.PathLike):
        return _PathBody(data)
    if isinstance(data, io.TextIOBase):
        raise TypeError("Upload data is a text stream: open the file in binary mode ('rb').")
    if hasattr(data, "read"):
        seekable = getattr(data, "seekable", None)
        if callable(seekable) and seekable():
            return _SeekableStreamBody(data)  # type: ignore[arg-type]
        return _OneShotBody(_read_chunks(data))  # type: ignore[arg-type]
    if isinstance(data, Iterable):
        return _OneShotBody(_iterate_chunks(data))
    raise TypeError(
        f"Cannot upload a {type(data).__name__}: pass bytes, a path, a binary file object "
        "or an iterator of bytes."
    )
