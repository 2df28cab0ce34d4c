"""Stress of the embedded broker (heatportal/broker.py): producers, pingers and two real
workers on one queue folder. Run by ``.ci/broker-stress`` (``pytest -m stress``); the default
test run leaves it out."""

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.heatportal.broker_support import EmbeddedBroker, deliveries

PRODUCERS = int(os.environ.get("BROKER_STRESS_PRODUCERS", "4"))
MESSAGES_PER_PRODUCER = int(os.environ.get("BROKER_STRESS_MESSAGES", "500"))
PINGERS = 2
WORKERS = ("stress-a@localhost", "stress-b@localhost")
DRAIN_TIMEOUT = 150.0


@pytest.mark.stress
def test_producers_and_two_workers_exchange_every_message_once_while_pings_fly(tmp_path):
    broker = EmbeddedBroker(tmp_path / "data")
    records = tmp_path / "records"
    records.mkdir()
    stop_pinging = tmp_path / "stop-pinging"
    for hostname in WORKERS:
        # More than one message in flight per process: the poller sleeps 0.1 s whenever its
        # prefetch is full, which bounds a worker to concurrency x prefetch messages per poll.
        broker.start_worker(hostname, concurrency=2, prefetch=4)
    try:
        run = exchange(broker, records, stop_pinging)
    finally:
        stop_pinging.touch()
        broker.stop_workers()

    counts = deliveries(records)
    sent_ids = {f"p{p}-{n:06d}" for p in range(PRODUCERS) for n in range(MESSAGES_PER_PRODUCER)}
    lost = len(sent_ids - counts.keys())
    duplicates = sum(count - 1 for count in counts.values())
    expected, alive = PRODUCERS * MESSAGES_PER_PRODUCER, run.alive
    broadcasts = sum(ping["pings"] for ping in run.pings)
    replies = sum(ping["replies"] for ping in run.pings)
    answered_by_all = sum(ping["answered_by_all"] for ping in run.pings)
    logs = "\n".join(broker.log(hostname).read_text() for hostname in WORKERS)
    bad = os.listdir(broker.broker_dir / "bad")
    print(
        f"\nbroker stress: {expected} messages from {PRODUCERS} producers to {len(WORKERS)} workers,"
        f" sent in {run.produced:.1f} s, all handled in {run.drained:.1f} s ({expected / run.drained:.0f}/s);"
        f" {broadcasts} pings from {PINGERS} pingers, {replies} replies, {answered_by_all} answered"
        f" by both workers; duplicates {duplicates}, lost {lost}, bad messages {len(bad)},"
        f" workers alive {len(alive)}/{len(WORKERS)}"
    )
    assert alive == list(WORKERS)
    assert sorted(run.answered_at_the_end) == sorted(WORKERS)
    assert "Unrecoverable error" not in logs
    assert lost == 0
    assert duplicates == 0
    assert counts.keys() == sent_ids
    assert bad == []
    assert broadcasts > 0
    assert replies > 0


@dataclass
class Exchange:
    produced: float  # seconds until every producer was done
    drained: float  # seconds until every message was handled (or the drain timed out)
    pings: list[dict]  # each pinger's summary
    alive: list[str]  # workers still running at the end
    answered_at_the_end: list[str]


def exchange(broker: EmbeddedBroker, records: Path, stop_pinging: Path) -> Exchange:
    """Producers send every message while pingers broadcast; wait until all are handled."""
    broker.wait_until_up(list(WORKERS))
    start = time.monotonic()
    pingers = [
        broker.spawn("ping", "--until", str(stop_pinging), "--expected", str(len(WORKERS)))
        for _ in range(PINGERS)
    ]
    count = str(MESSAGES_PER_PRODUCER)
    producers = [
        broker.spawn("produce", "--prefix", f"p{number}", "--count", count, "--folder", str(records))
        for number in range(PRODUCERS)
    ]
    for producer in producers:
        _, errors = producer.communicate(timeout=DRAIN_TIMEOUT)
        assert producer.returncode == 0, errors
    produced = time.monotonic() - start
    expected = PRODUCERS * MESSAGES_PER_PRODUCER
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while len(deliveries(records)) < expected and time.monotonic() < deadline:
        assert all(worker.poll() is None for worker in broker.workers.values())
        time.sleep(0.5)
    drained = time.monotonic() - start
    time.sleep(2)  # a late second delivery would show now
    stop_pinging.touch()
    pings = [json.loads(pinger.communicate(timeout=30)[0].splitlines()[-1]) for pinger in pingers]
    alive = [hostname for hostname, worker in broker.workers.items() if worker.poll() is None]
    return Exchange(produced, drained, pings, alive, broker.ping(timeout=2))
