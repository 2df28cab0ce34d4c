"""Stored files: served to clients in chunks, and removed without leaving empty folders."""

import os
from collections.abc import Iterator
from pathlib import PurePosixPath

from django.core.files.storage import FileSystemStorage, default_storage


def stream_stored_file(name: str, chunk_size: int) -> Iterator[bytes]:
    """Read a stored file in chunks, for a StreamingHttpResponse. A plain iterator: the web
    process runs views on its threads (heatportal/lanes.py) and sends each chunk as it comes;
    Django would read an async iterator whole before sending it from a thread."""
    with default_storage.open(name, "rb") as file:
        while chunk := file.read(chunk_size):
            yield chunk


def stored_file_delete(name: str) -> None:
    """Delete a stored file and, on local storage, the folders it leaves empty (a partial
    upload must leave nothing behind)."""
    default_storage.delete(name)
    if not isinstance(default_storage, FileSystemStorage):
        return  # object stores have no folders
    for folder in PurePosixPath(name).parents:
        if str(folder) in ("", "."):
            break
        try:
            os.rmdir(default_storage.path(str(folder)))
        except OSError:  # not empty (another upload's files), or gone
            break
