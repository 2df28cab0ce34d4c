"""The embedded Celery broker: kombu's filesystem transport with its races fixed.

Written for kombu 5.7.0 (pinned in requirements.txt); ``tests/heatportal/test_broker.py`` fails
if the kombu names this module overrides or relies on change. The settings load it by its dotted
path (``CELERY_BROKER_TRANSPORT = "heatportal.broker:Transport"``) and keep the
``filesystem://`` URL. What it changes, and why (see also docs/decisions.md):

- **Messages are written whole or not at all.** kombu opens the final ``*.msg`` name, empty, and
  then writes into it, so a worker polling in between reads an empty file and dies with
  ``JSONDecodeError`` (celery/kombu#1551, celery/celery#4308; DVC's dvc-task#90). Here a message
  is written to a hidden temporary name in the same folder (flushed to disk first when the
  transport option ``fsync`` is on) and renamed into place: ``rename`` is atomic on POSIX, so a
  reader sees nothing or all of it.
- **A message is claimed by one consumer.** kombu moves a message to the temporary folder, which
  is a copy when ``/tmp`` is another file system, so two workers could both read it. Here a
  consumer claims a message by renaming it to a hidden name in the same folder; of two workers
  polling the same folder only one rename succeeds.
- **A message that cannot be decoded is never a crash.** It is moved to ``bad_folder`` with a log
  line and counted (:func:`bad_message_count`, shown by the health page); nothing is lost
  silently. Only a power loss can produce one now (a file renamed but not yet on disk).
- **Exchange tables** (the bindings that route messages, the fanout behind ``ping`` among them)
  are changed under an exclusive lock on a lock file of their own and replaced by an atomic
  rename, so readers never see a table that is truncated or half-written. kombu truncates a new
  table before it locks it.
- **A waiting consumer wakes up when there is something to do**, not at its next poll. kombu
  sleeps ``polling_interval`` after every empty look at the folder, so a message waited
  50 ms on average at 0.1 s, and a worker whose prefetch slots were full slept a whole interval
  after a slot came free. Here a consumer waits on inotify (Linux) for a message to be renamed
  into the queue folder, and on a pipe that an acknowledgement writes to when it frees a slot;
  it looks at the folder at least every ``watched_polling_interval`` (1 s) regardless, in case
  a change went unseen (a folder on a network file system). Without inotify it polls every
  ``polling_interval`` as before.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fcntl
import logging
import os
import select
import shutil
import struct
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from queue import Empty
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, virtual
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads
from kombu.utils.objects import cached_property

logger = logging.getLogger(__name__)

#: Prefixes of the hidden names this transport gives files in the queue folder. kombu matches a
#: queue's messages by ``filename.partition(".")[2] == f"{queue}.msg"``; a leading dot makes that
#: part start after it, so hidden files never match any queue (and ``_size``/``_purge`` skip them).
WRITING_PREFIX = ".writing-"
CLAIMED_PREFIX = ".claimed-"
BAD_SUFFIX = ".msg"
TIDY_INTERVAL = 60.0


def bad_message_count(folder: str | os.PathLike) -> int:
    """How many undecodable messages wait in ``folder`` for an operator's look."""
    try:
        return sum(1 for name in os.listdir(folder) if name.endswith(BAD_SUFFIX))
    except FileNotFoundError:
        return 0


def _write_atomically(path: str, data: bytes, *, fsync: bool) -> None:
    """Write ``data`` to ``path`` so that no reader ever sees a part of it: to a hidden name in
    the same folder first (same file system, so that the rename is atomic), then renamed."""
    folder, name = os.path.split(path)
    temporary = os.path.join(folder, f"{WRITING_PREFIX}{uuid.uuid4().hex}-{name}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


# --- Waking up waiting consumers ---------------------------------------------------------------

_IN_CREATE = 0x100
_IN_MOVED_TO = 0x80
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = os.O_CLOEXEC
_EVENT = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len (then the name)


def _inotify_libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.inotify_init1.argtypes = [ctypes.c_int]
        libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        return libc
    except (OSError, AttributeError):
        return None


class Waker:
    """What a consumer of this process waits on between two looks at the queue folders: a new
    message there (inotify) or a prefetch slot freed by an acknowledgement (a pipe). One per
    process and transport; :meth:`wait` returns early on either, or after ``timeout``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watched: set[str] = set()
        self._inotify = -1
        self._read_end, self._write_end = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.pid = os.getpid()
        self.arrived: set[str] = set()  # queues with a message seen since the last listing
        self._names: dict[tuple[str, str], deque[str]] = {}
        self._listed_at: dict[str, float] = {}
        libc = _inotify_libc()
        if libc is not None:
            fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
            if fd >= 0:
                self._libc, self._inotify = libc, fd

    @property
    def watching(self) -> bool:
        """Whether new messages wake a waiting consumer (inotify watches every folder)."""
        return self._inotify >= 0

    def watch(self, folder: str) -> None:
        """Be woken by messages renamed or written into ``folder`` (idempotent). Call before
        looking at the folder, so that a message arriving in between is not missed."""
        if folder in self._watched or self._inotify < 0:
            return
        with self._lock:
            if folder in self._watched:
                return
            mask = _IN_MOVED_TO | _IN_CREATE  # ours rename into place; kombu's own creates
            if self._libc.inotify_add_watch(self._inotify, os.fsencode(folder), mask) < 0:
                error = ctypes.get_errno()
                logger.warning("Broker: cannot watch %s (%s); polling it", folder, os.strerror(error))
                os.close(self._inotify)
                self._inotify = -1
                return
            self._watched.add(folder)

    def slot_freed(self) -> None:
        """Wake the consumer: a message was acknowledged while its prefetch slots were full.
        Any thread (a pool's) may call it."""
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._write_end, b"\0")

    def wait(self, timeout: float, queues: frozenset[str] = frozenset()) -> None:
        """Until a message of one of ``queues`` (of any queue if empty) may have arrived, a slot
        was freed, or ``timeout`` seconds. Files of other queues and this transport's hidden
        files (writes in progress, claims) do not end the wait."""
        deadline = monotonic() + timeout
        readers = [self._read_end] + ([self._inotify] if self._inotify >= 0 else [])
        while True:
            if self.arrived and (not queues or not self.arrived.isdisjoint(queues)):
                return
            try:
                ready, _, _ = select.select(readers, [], [], max(0.0, deadline - monotonic()))
            except InterruptedError:
                return
            if not ready:
                return
            if self._read_end in ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(self._read_end, 4096)
                return
            self.collect()

    def collect(self) -> None:
        """Read the pending inotify events (without waiting): the queues they name join
        :attr:`arrived`."""
        if self._inotify < 0:
            return
        while True:
            try:
                data = os.read(self._inotify, 65536)
            except BlockingIOError:
                return
            offset = 0
            while offset + _EVENT.size <= len(data):
                _wd, _mask, _cookie, length = _EVENT.unpack_from(data, offset)
                name = data[offset + _EVENT.size : offset + _EVENT.size + length].rstrip(b"\0")
                offset += _EVENT.size + length
                if not name.startswith(b".") and name.endswith(b".msg"):
                    self.arrived.add(name.decode(errors="replace").partition(".")[2].removesuffix(".msg"))

    def next_names(self, folder: str, queue: str, *, relist_after: float) -> deque[str]:
        """The names of ``queue``'s messages in ``folder``, oldest first, from the last listing
        of the folder; listed again when it holds none of them and a message of the queue
        arrived since (or ``relist_after`` seconds passed, or nothing is watched). One listing
        serves every queue and many messages: a worker draining N messages lists the folder
        about once per batch instead of once per message (N² names sorted)."""
        names = self._names.get((folder, queue))
        if names:
            return names
        self.watch(folder)  # before a listing: a message arriving after it is an event
        if folder in self._watched:
            self.collect()
            fresh = monotonic() - self._listed_at.get(folder, -1e9) < relist_after
            if fresh and queue not in self.arrived:
                return deque()
        self.arrived.clear()  # before listing: what arrives from now on is seen by the next one
        self._listed_at[folder] = monotonic()
        listing: dict[tuple[str, str], deque[str]] = {}
        for filename in sorted(os.listdir(folder)):
            rest = filename.partition(".")[2]
            if rest.endswith(".msg") and not filename.startswith("."):
                listing.setdefault((folder, rest[:-4]), deque()).append(filename)
        self._names = listing
        return listing.get((folder, queue), deque())

    def close(self) -> None:
        for fd in (self._read_end, self._write_end, self._inotify):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._inotify = -1


class QoS(virtual.QoS):
    """kombu's QoS; an acknowledgement that frees a slot of a full prefetch wakes the consumer
    (kombu's would sleep out its polling interval first)."""

    def ack(self, delivery_tag):
        full = not self.can_consume()
        super().ack(delivery_tag)
        if full:
            self.channel.connection.waker.slot_freed()

    def reject(self, delivery_tag, requeue=False):
        full = not self.can_consume()
        super().reject(delivery_tag, requeue=requeue)
        if full:
            self.channel.connection.waker.slot_freed()


class Channel(filesystem.Channel):
    """kombu's filesystem channel with atomic writes, single-winner claims and exchange tables
    changed under a lock; undecodable messages are set aside instead of raised."""

    QoS = QoS

    # --- Messages ------------------------------------------------------------------------------

    def _put(self, queue, payload, **kwargs):
        """Put ``payload`` onto ``queue``: written whole under a hidden name, then renamed."""
        # kombu's name, so that both read each other's messages: the time orders them (FIFO).
        filename = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        path = os.path.join(self.data_folder_out, filename)
        try:
            _write_atomically(path, str_to_bytes(dumps(payload)), fsync=self.fsync)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {path!r} to directory") from exc

    def _get(self, queue):
        """Claim, read and return the oldest message of ``queue``; raise ``Empty`` if none."""
        self._maybe_tidy()
        waker = self.connection.waker
        folder = self.data_folder_in
        for _pass in range(2):  # the names of the last listing, then of a new one if there is cause
            names = waker.next_names(folder, queue, relist_after=self.watched_polling_interval)
            while names:
                filename = names.popleft()
                claimed = self._claim(filename)
                if claimed is None:
                    continue  # another consumer won it
                try:
                    with open(claimed, "rb") as file:
                        raw = file.read()
                except OSError as exc:
                    raise ChannelError(f"Cannot read file {claimed!r} from queue.") from exc
                payload, problem = self._decode(raw)
                if problem is not None:
                    self._set_aside(claimed, filename, queue, problem)
                    continue
                self._dispose(claimed, filename)
                return payload
        raise Empty()

    def _claim(self, filename: str) -> str | None:
        """Rename the message to a hidden name of this process; ``None`` if it is gone.

        ``rename`` within one folder is atomic: of several consumers only one succeeds, the
        others get ``FileNotFoundError``. The message is thus delivered once."""
        source = os.path.join(self.data_folder_in, filename)
        claimed = os.path.join(self.data_folder_in, f"{CLAIMED_PREFIX}{os.getpid()}-{filename}")
        try:
            os.rename(source, claimed)
        except OSError:  # gone (FileNotFoundError), or not ours to take: kombu skips it too
            return None
        return claimed

    def _decode(self, raw: bytes) -> tuple[dict | None, str | None]:
        """The message, or why it cannot be delivered: what kombu's ``Message`` needs to build
        one (a JSON object with ``properties.delivery_tag`` and a body it can decode)."""
        try:
            payload = loads(bytes_to_str(raw))
        except (ValueError, RecursionError) as error:  # JSONDecodeError, UnicodeDecodeError
            return None, f"not JSON ({type(error).__name__}: {error}; {len(raw)} bytes)"
        properties = payload.get("properties") if isinstance(payload, dict) else None
        if not isinstance(properties, dict) or "delivery_tag" not in properties:
            return None, "not a kombu message (no properties.delivery_tag)"
        if payload.get("body"):
            try:
                self.decode_body(payload["body"], properties.get("body_encoding"))
            except Exception as error:  # any codec error: base64's binascii.Error, TypeError, ...
                return None, f"body cannot be decoded ({type(error).__name__}: {error})"
        return payload, None

    def _set_aside(self, claimed: str, filename: str, queue: str, problem: str) -> None:
        """Keep an undecodable message in ``bad_folder`` for an operator, count it and say so."""
        os.makedirs(self.bad_folder, exist_ok=True)
        target = os.path.join(self.bad_folder, filename)
        if os.path.exists(target):  # the same name twice: keep both
            target = os.path.join(self.bad_folder, f"{uuid.uuid4().hex}-{filename}")
        try:
            shutil.move(claimed, target)
        except OSError:
            logger.exception("Broker: cannot move the undecodable message %s aside", claimed)
            target = claimed  # left where it is, under its hidden claimed name
        logger.error(
            "Broker: a message on queue %r cannot be delivered: %s; kept in %s (%d there)",
            queue,
            problem,
            target,
            bad_message_count(self.bad_folder),
        )

    def _dispose(self, claimed: str, filename: str) -> None:
        """A message read: kept in ``processed_folder`` if asked to, else removed."""
        try:
            if self.store_processed:
                shutil.move(claimed, os.path.join(self.processed_folder, filename))
            else:
                os.remove(claimed)
        except OSError as exc:
            raise ChannelError(f"Cannot remove file {claimed!r} from queue.") from exc

    # --- Leftovers -----------------------------------------------------------------------------

    _next_tidy = 0.0  # per process: monotonic time of the next tidy-up

    def _maybe_tidy(self) -> None:
        if monotonic() >= Channel._next_tidy:
            Channel._next_tidy = monotonic() + TIDY_INTERVAL
            try:
                self.tidy()
            except OSError:
                logger.exception("Broker: tidying the queue folder failed")

    def tidy(self, now: float | None = None) -> dict[str, int]:
        """Deal with files older than ``stale_after`` seconds (every consumer does this once a
        minute; several at once are harmless):

        - a message claimed by a consumer that died before reading it goes back to its queue
          (a consumer removes a message before it delivers it, so it was never delivered);
        - a half-written message of a producer that died is removed (its publish failed);
        - control messages (``*.pidbox``) nobody read are removed and their queue unbound
          from every exchange: a stopped worker's control queue stays bound, and every
          broadcast (each ``ping`` of the health page) would otherwise add a file to it. A
          worker that starts again binds its queue again.
        """
        cutoff = (time.time() if now is None else now) - self.stale_after
        counts = {"requeued": 0, "removed": 0, "unbound": 0}
        stale_control_queues = self._tidy_files(cutoff, counts)
        if stale_control_queues and self.control_folder.is_dir():
            counts["unbound"] = self._unbind(stale_control_queues)
        if any(counts.values()):
            logger.info(
                "Broker: %(requeued)d claimed messages requeued, %(removed)d stale files removed,"
                " %(unbound)d stale control queues unbound",
                counts,
            )
        return counts

    def _tidy_files(self, cutoff: float, counts: dict[str, int]) -> set[str]:
        """Requeue or remove the stale files older than ``cutoff`` (counted in ``counts``);
        the names of the control queues whose messages were stale."""
        folder = self.data_folder_in
        stale_control_queues = set()
        for name in os.listdir(folder):
            path = os.path.join(folder, name)
            is_control = not name.startswith(".") and name.endswith(".pidbox.msg")
            if not (is_control or name.startswith((CLAIMED_PREFIX, WRITING_PREFIX))):
                continue
            try:
                # ctime: a rename sets it, so a claimed file's age counts from its claim.
                if os.stat(path).st_ctime >= cutoff:
                    continue
                if name.startswith(CLAIMED_PREFIX):
                    original = name[len(CLAIMED_PREFIX) :].partition("-")[2]
                    os.rename(path, os.path.join(folder, original))
                    counts["requeued"] += 1
                else:
                    os.remove(path)
                    counts["removed"] += 1
            except FileNotFoundError:
                continue  # another consumer dealt with it
            if is_control:
                stale_control_queues.add(name.partition(".")[2].removesuffix(".msg"))
        return stale_control_queues

    def _unbind(self, queues: set[str]) -> int:
        """Unbind ``queues`` from every exchange; how many bindings were removed."""
        unbound = 0
        for table in self.control_folder.glob("*.exchange"):
            with self._table_lock(table):
                rows = self._read_table(table)
                kept = [row for row in rows if row.queue not in queues]
                if len(kept) != len(rows):
                    self._write_table(table, kept)
                    unbound += len(rows) - len(kept)
        return unbound

    # --- Exchange tables -----------------------------------------------------------------------

    @contextlib.contextmanager
    def _table_lock(self, table: Path) -> Iterator[None]:
        """An exclusive lock on the table's own lock file, which is never replaced (the table
        itself is, so a lock on it would be a lock on an old copy)."""
        with open(f"{table}.lock", "ab") as lock_file:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)

    def _read_table(self, table: Path) -> list[filesystem.exchange_queue_t]:
        """The table's bindings; a table that cannot be read is set aside and counts as empty
        (only a table written by kombu's own transport before this one, or a power loss, can
        be one). Call with the table's lock held."""
        try:
            raw = table.read_bytes()
        except FileNotFoundError:
            return []
        try:
            return [filesystem.exchange_queue_t(*row) for row in loads(bytes_to_str(raw))]
        except (ValueError, TypeError) as error:
            os.makedirs(self.bad_folder, exist_ok=True)
            target = os.path.join(self.bad_folder, f"{table.name}.{uuid.uuid4().hex}.corrupt")
            shutil.move(table, target)
            logger.error("Broker: exchange table %s cannot be read (%s); kept in %s", table, error, target)
            return []

    def _write_table(self, table: Path, rows: list) -> None:
        _write_atomically(str(table), str_to_bytes(dumps(rows)), fsync=self.fsync)

    def get_table(self, exchange):
        """The exchange's bindings, read without a lock: tables are replaced whole by rename."""
        table = self._exchange_file(exchange)
        try:
            raw = table.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ChannelError(f"Cannot open {table}") from exc
        try:
            return [filesystem.exchange_queue_t(*row) for row in loads(bytes_to_str(raw))]
        except (ValueError, TypeError) as error:
            # The next bind repairs it (under the lock); until then nothing is bound.
            logger.error("Broker: exchange table %s cannot be read (%s)", table, error)
            return []

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        table = self._exchange_file(exchange)
        self.control_folder.mkdir(parents=True, exist_ok=True)
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        try:
            with self._table_lock(table):
                rows = self._read_table(table)
                if binding not in rows:
                    rows.insert(0, binding)
                    self._write_table(table, rows)
        except OSError as exc:
            raise ChannelError(f"Cannot open {table}") from exc

    def _delete(self, queue, exchange, routing_key, pattern, *args, **kwargs):
        # The virtual channel's _delete (it purges the queue), then the table without the queue;
        # filesystem.Channel._delete would rewrite the table in place.
        virtual.Channel._delete(self, queue, exchange, routing_key, pattern, *args, **kwargs)
        table = self._exchange_file(exchange)
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        try:
            with self._table_lock(table):
                rows = self._read_table(table)
                if binding in rows:
                    self._write_table(table, [row for row in rows if row != binding])
        except FileNotFoundError:
            return  # no control folder: nothing is bound
        except OSError as exc:
            raise ChannelError(f"Cannot open {table}") from exc

    # --- Options -------------------------------------------------------------------------------

    @cached_property
    def bad_folder(self) -> str:
        """Where undecodable messages are kept (transport option ``bad_folder``)."""
        return self.transport_options.get("bad_folder") or os.path.join(self.data_folder_in, "bad")

    @cached_property
    def stale_after(self) -> float:
        """Age in seconds after which :meth:`tidy` deals with a leftover file (transport option
        ``stale_after``). Longer than a worker can leave its control queue unread: a worker
        with the solo pool reads it only between tasks."""
        return float(self.transport_options.get("stale_after", 3600))

    @cached_property
    def watched_polling_interval(self) -> float:
        """How often a consumer looks at the folder when inotify wakes it on new messages
        (transport option ``watched_polling_interval``): a safety net, not the latency."""
        return float(self.transport_options.get("watched_polling_interval", 1.0))

    @cached_property
    def fsync(self) -> bool:
        """Flush each message and table to disk before it is renamed into place (transport
        option ``fsync``; the settings turn it off, like SQLite's per-commit sync): with it, after
        a power loss a message is whole or absent."""
        return bool(self.transport_options.get("fsync", True))


class Transport(filesystem.Transport):
    """kombu's filesystem transport with :class:`Channel`; ``filesystem://`` URLs as before.
    A consumer waits for a change (:class:`Waker`) instead of sleeping a polling interval."""

    Channel = Channel

    _waker: Waker | None = None

    @property
    def waker(self) -> Waker:
        """This process's waker (a forked child makes its own: the inotify queue is shared)."""
        if self._waker is None or self._waker.pid != os.getpid():
            self._waker = Waker()
        return self._waker

    def drain_events(self, connection, timeout=None):
        """kombu's loop (look at every consumed queue, deliver one message), but an empty look
        waits on :attr:`waker` instead of sleeping: a new message or a freed slot ends the wait."""
        started = monotonic()
        waker = self.waker
        interval = self.polling_interval or 0.1
        for channel in self.channels:
            waker.watch(channel.data_folder_in)
        if waker.watching and self.channels:
            interval = max(interval, self.channels[0].watched_polling_interval)
        while True:
            try:
                self.cycle.get(self._deliver, timeout=timeout)
                return
            except Empty:
                pass
            remaining = interval if timeout is None else min(interval, timeout - (monotonic() - started))
            if remaining <= 0:
                raise TimeoutError()
            queues = frozenset(queue for channel in self.channels for queue in channel._active_queues)
            waker.wait(remaining, queues)

    def close_connection(self, connection):
        super().close_connection(connection)
        if self._waker is not None and self._waker.pid == os.getpid():
            self._waker.close()
        self._waker = None
