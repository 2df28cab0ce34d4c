"""The embedded broker (heatportal/broker.py): kombu's filesystem transport with its races fixed.

These tests run on folders of their own, whatever broker the suite is configured with."""

import inspect
import json
import logging
import multiprocessing
import os
import time
from pathlib import Path
from queue import Empty

import kombu
import pytest
from kombu import Connection, Exchange, Queue
from kombu.transport import filesystem, virtual
from kombu.utils.objects import cached_property

from heatportal import broker
from heatportal.broker import CLAIMED_PREFIX, WRITING_PREFIX, bad_message_count
from tests.heatportal.broker_support import EmbeddedBroker, deliveries
from tests.heatportal.test_settings import run_django

# --- The kombu it patches -----------------------------------------------------------------------


def test_kombu_is_the_version_the_transport_was_written_for():
    assert kombu.__version__ == "5.7.0"


# What heatportal/broker.py overrides (its signature must stay) or calls (it must exist).
KOMBU_METHODS = [
    (filesystem.Channel, "_put", ["self", "queue", "payload", "kwargs"]),
    (filesystem.Channel, "_get", ["self", "queue"]),
    (filesystem.Channel, "_queue_bind", ["self", "exchange", "routing_key", "pattern", "queue"]),
    (
        filesystem.Channel,
        "_delete",
        ["self", "queue", "exchange", "routing_key", "pattern", "args", "kwargs"],
    ),
    (filesystem.Channel, "get_table", ["self", "exchange"]),
    (filesystem.Channel, "_exchange_file", ["self", "exchange"]),
    (filesystem.Channel, "_purge", ["self", "queue"]),
    (filesystem.Channel, "_size", ["self", "queue"]),
    (virtual.Channel, "_delete", ["self", "queue", "args", "kwargs"]),
    (virtual.Channel, "decode_body", ["self", "body", "encoding"]),
    (virtual.Channel, "_get_and_deliver", ["self", "queue", "callback"]),
]


@pytest.mark.parametrize(
    ("owner", "name", "parameters"), KOMBU_METHODS, ids=lambda value: getattr(value, "__name__", "")
)
def test_the_kombu_methods_it_overrides_or_calls_keep_their_signature(owner, name, parameters):
    assert list(inspect.signature(getattr(owner, name)).parameters) == parameters


def test_the_kombu_attributes_it_relies_on_are_still_there():
    assert filesystem.exchange_queue_t._fields == ("routing_key", "pattern", "queue")
    for name in ("data_folder_in", "data_folder_out", "store_processed", "processed_folder"):
        assert isinstance(inspect.getattr_static(filesystem.Channel, name), cached_property)
    for name in ("control_folder", "transport_options"):
        assert isinstance(inspect.getattr_static(filesystem.Channel, name), property)
    assert issubclass(filesystem.Transport, virtual.Transport)
    assert filesystem.Transport.Channel is filesystem.Channel
    assert broker.Transport.driver_type == "filesystem"
    # kombu still finds a queue's messages by this part of the file name (_size/_purge, which
    # this transport inherits, and its hidden names rely on it).
    assert "filename.partition('.')[2] != queue_find" in inspect.getsource(filesystem.Channel._size)


def test_an_explicit_transport_wins_over_the_url_scheme():
    connection = Connection("filesystem://localhost//", transport="heatportal.broker:Transport")

    assert connection.get_transport_cls() is broker.Transport


@pytest.mark.parametrize(
    ("environment", "transport"),
    [({}, "heatportal.broker"), ({"REDIS_URL": "redis://127.0.0.1:6379/0"}, "kombu.transport.redis")],
    ids=["embedded", "redis"],
)
def test_the_settings_load_it_for_the_embedded_default_only(tmp_path, environment, transport):
    code = (
        "import django; django.setup()\n"
        "from heatportal.celery import app\n"
        "print(app.connection_for_write().get_transport_cls().__module__)"
    )
    result = run_django(code, "heatportal.settings.base", tmp_path, **environment)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == transport


# --- A broker on folders of its own -------------------------------------------------------------


def options(root: Path) -> dict:
    for name in ("queue", "control", "processed", "bad"):
        (root / name).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(root / "queue"),
        "data_folder_out": str(root / "queue"),
        "control_folder": str(root / "control"),
        "processed_folder": str(root / "processed"),
        "bad_folder": str(root / "bad"),
        "fsync": False,  # these tests are about visibility between processes, not power loss
    }


def connect(root: Path, transport: str = "heatportal.broker:Transport") -> Connection:
    return Connection("filesystem://", transport=transport, transport_options=options(root))


def publish(connection: Connection, body: dict, queue: str = "work") -> None:
    producer = connection.Producer(serializer="json")
    producer.publish(body, exchange="", routing_key=queue, declare=[Queue(queue)])


def queue_files(root: Path) -> list[str]:
    return sorted(os.listdir(root / "queue"))


def test_a_message_goes_through_and_leaves_nothing_behind(tmp_path):
    with connect(tmp_path) as connection:
        publish(connection, {"n": 1})
        assert [name.partition(".")[2] for name in queue_files(tmp_path)] == ["work.msg"]

        message = connection.SimpleQueue("work").get(timeout=1)
        message.ack()

    assert message.payload == {"n": 1}
    assert queue_files(tmp_path) == []


def test_a_message_being_written_is_invisible_to_consumers(tmp_path):
    (tmp_path / "queue").mkdir()
    # What a producer has written so far: a part of the message, under the hidden name.
    (tmp_path / "queue" / f"{WRITING_PREFIX}abc-1_x.work.msg").write_text('{"body": "ey')
    with connect(tmp_path) as connection:
        channel = connection.default_channel

        with pytest.raises(Empty):
            channel._get("work")
        assert channel._size("work") == 0


def test_kombus_own_transport_dies_on_an_empty_message_file(tmp_path):
    """The bug this transport fixes: kombu's _put creates the final name empty, then writes;
    a consumer that reads it in between raises (the worker's 'Unrecoverable error')."""
    with connect(tmp_path, transport="filesystem") as connection:
        (tmp_path / "queue" / "0_x.work.msg").write_bytes(b"")

        with pytest.raises(json.JSONDecodeError):
            connection.default_channel._get("work")


@pytest.mark.parametrize(
    "content",
    [b"", b'{"body": "trunc', b"\xff\xfe", b"[1, 2]", b'{"properties": {}}', b'{"body": "abc", '
     b'"properties": {"delivery_tag": "t", "body_encoding": "base64"}}', b"[" * 100_000],
    ids=["empty", "truncated", "not-utf8", "not-an-object", "no-delivery-tag", "bad-base64", "too-deep"],
)  # fmt: skip
def test_an_undecodable_message_is_set_aside_counted_and_the_next_one_delivered(tmp_path, caplog, content):
    with connect(tmp_path) as connection:
        (tmp_path / "queue" / "0_bad.work.msg").write_bytes(content)
        publish(connection, {"n": 2})

        with caplog.at_level(logging.ERROR, logger="heatportal.broker"):
            message = connection.SimpleQueue("work").get(timeout=1)
            message.ack()

    assert message.payload == {"n": 2}
    assert bad_message_count(tmp_path / "bad") == 1
    assert (tmp_path / "bad" / "0_bad.work.msg").read_bytes() == content  # kept as it was
    assert queue_files(tmp_path) == []
    assert "cannot be delivered" in caplog.text and "'work'" in caplog.text


def _consume_all(root: str, results: str) -> None:
    """A consumer process: take messages until the queue stays empty; write their numbers."""
    taken = []
    with connect(Path(root)) as connection:
        queue = connection.SimpleQueue("work")
        while True:
            try:
                message = queue.get(timeout=3)
            except queue.Empty:
                break
            taken.append(message.payload["n"])
            message.ack()
    Path(results).write_text(json.dumps(taken))


def _publish_range(root: str, start: int, stop: int) -> None:
    with connect(Path(root)) as connection:
        for number in range(start, stop):
            publish(connection, {"n": number})


def run_processes(*targets: tuple) -> None:
    context = multiprocessing.get_context("spawn")  # no fork of a process with threads
    processes = [context.Process(target=target, args=args) for target, *args in targets]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [process.exitcode for process in processes] == [0] * len(processes)


def test_consumers_polling_one_folder_while_producers_write_get_each_message_once(tmp_path):
    """Producers write while consumers poll: kombu's own transport hands a consumer a file
    that is still empty here (and the consumer process dies)."""
    per_producer, producers, consumers = 300, 2, 3
    results = [tmp_path / f"taken-{index}.json" for index in range(consumers)]

    run_processes(
        *[(_consume_all, str(tmp_path), str(path)) for path in results],
        *[
            (_publish_range, str(tmp_path), p * per_producer, (p + 1) * per_producer)
            for p in range(producers)
        ],
    )

    taken = [n for path in results for n in json.loads(path.read_text())]
    assert sorted(taken) == list(range(producers * per_producer))  # nothing lost, nothing twice
    assert sum(1 for path in results if json.loads(path.read_text())) > 1  # they did compete


def _bind_and_read(root: str, worker: int, results: str) -> None:
    """Bind a queue to each of 30 new fanout exchanges, reading each table after the bind,
    as other processes do the same at the same time; and a queue that comes and goes."""
    errors = 0
    with connect(Path(root)) as connection:
        channel = connection.channel()
        for index in range(30):
            Queue(f"q{worker}", Exchange(f"broadcast{index}", type="fanout"))(channel).declare()
            try:
                channel.get_table(f"broadcast{index}")
            except Exception:
                errors += 1
        leaving = Queue(f"leaving{worker}", Exchange("broadcast0", type="fanout"))(channel)
        leaving.declare()
        leaving.delete()
    Path(results).write_text(json.dumps({"errors": errors}))


def test_exchange_tables_changed_by_several_processes_at_once_stay_whole(tmp_path):
    workers = 4
    results = [tmp_path / f"bound-{index}.json" for index in range(workers)]

    run_processes(*[(_bind_and_read, str(tmp_path), index, str(path)) for index, path in enumerate(results)])

    with connect(tmp_path) as connection:
        channel = connection.default_channel
        tables = {
            index: sorted(row.queue for row in channel.get_table(f"broadcast{index}")) for index in range(30)
        }
    assert [json.loads(path.read_text())["errors"] for path in results] == [0] * workers
    everyone = [f"q{worker}" for worker in range(workers)]
    assert tables == {index: everyone for index in range(30)}


def test_an_unreadable_exchange_table_is_set_aside_and_rebuilt(tmp_path, caplog):
    with connect(tmp_path) as connection:
        channel = connection.channel()
        (tmp_path / "control" / "broadcast.exchange").write_bytes(b"")  # as kombu could leave it

        assert channel.get_table("broadcast") == []
        Queue("listener", Exchange("broadcast", type="fanout"))(channel).declare()

        assert [row.queue for row in channel.get_table("broadcast")] == ["listener"]
    assert [name.partition(".exchange")[0] for name in os.listdir(tmp_path / "bad")] == ["broadcast"]


def test_tidy_requeues_orphan_claims_and_clears_stopped_workers_control_queues(tmp_path):
    with connect(tmp_path) as connection:
        channel = connection.channel()
        # Not Celery's own exchange: kombu keeps declarations per process, and this one's pings
        # have declared that already with other arguments.
        exchange = Exchange("tidy-test.pidbox", type="fanout")
        for hostname in ("gone@host", "alive@host"):
            Queue(f"{hostname}.celery.pidbox", exchange)(channel).declare()
        queue_dir = tmp_path / "queue"
        old = [
            f"{CLAIMED_PREFIX}99999-5_a.work.msg",  # claimed, its consumer died before reading it
            f"{WRITING_PREFIX}abc-6_b.work.msg",  # half-written, its producer died
            "7_c.gone@host.celery.pidbox.msg",  # a ping that nobody read
        ]
        fresh = [
            "8_d.alive@host.celery.pidbox.msg",  # a ping on its way
            f"{CLAIMED_PREFIX}{os.getpid()}-9_e.work.msg",  # being read right now
        ]
        for name in old:
            (queue_dir / name).write_text("{}")
        time.sleep(0.1)  # tidy() goes by ctime, which only the clock sets
        between = time.time()
        time.sleep(0.1)
        for name in fresh:
            (queue_dir / name).write_text("{}")

        counts = channel.tidy(now=between + channel.stale_after)

        table = [row.queue for row in channel.get_table("tidy-test.pidbox")]
    assert counts == {"requeued": 1, "removed": 2, "unbound": 1}
    assert queue_files(tmp_path) == sorted(
        ["5_a.work.msg", "8_d.alive@host.celery.pidbox.msg", f"{CLAIMED_PREFIX}{os.getpid()}-9_e.work.msg"]
    )
    assert table == ["alive@host.celery.pidbox"]


# --- A real worker ------------------------------------------------------------------------------


@pytest.mark.worker
def test_a_worker_sets_undecodable_messages_aside_and_keeps_going(tmp_path):
    embedded = EmbeddedBroker(tmp_path / "data")
    records = tmp_path / "records"
    records.mkdir()
    worker = embedded.start_worker("bad-messages@localhost", concurrency=1)
    try:
        embedded.wait_until_up(["bad-messages@localhost"])
        queue_dir = embedded.broker_dir / "queue"
        (queue_dir / "0_empty.celery.msg").write_bytes(b"")  # what kombu's race hands a worker
        (queue_dir / "0_garbage.celery.msg").write_bytes(b"\x00not json")
        embedded.run("produce", "--prefix", "after", "--count", "3", "--folder", str(records))
        deadline = time.monotonic() + 60
        while len(deliveries(records)) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        alive = worker.poll() is None
        answered = embedded.ping()
    finally:
        embedded.stop_workers()

    assert deliveries(records) == {f"after-{n:06d}": 1 for n in range(3)}
    assert alive
    assert answered == ["bad-messages@localhost"]
    assert bad_message_count(embedded.broker_dir / "bad") == 2
    log = embedded.log("bad-messages@localhost").read_text()
    assert log.count("cannot be delivered") == 2
    assert "Unrecoverable error" not in log
