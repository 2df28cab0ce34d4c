"""The web process's pool (heatportal/threads.py): quick work stays on one thread, blocked
work does not hold the rest up, and results and errors reach the caller."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from heatportal.threads import WebThreads


def _run(coro):
    return asyncio.run(coro)


def test_results_and_errors_reach_the_caller():
    pool = WebThreads(4)

    def fail():
        raise ValueError("refused")

    async def main():
        loop = asyncio.get_running_loop()
        assert await loop.run_in_executor(pool, pow, 2, 10) == 1024
        with pytest.raises(ValueError, match="refused"):
            await loop.run_in_executor(pool, fail)

    _run(main())
    pool.shutdown()


def test_a_burst_of_quick_calls_runs_on_one_thread():
    pool = WebThreads(16, spare_after=0.05)  # no stall of 50 ms on a loaded machine either

    def name():
        time.sleep(0.0002)  # releases the GIL, as a query does
        return threading.current_thread().name

    async def main():
        loop = asyncio.get_running_loop()
        return await asyncio.gather(*(loop.run_in_executor(pool, name) for _ in range(200)))

    names = _run(main())
    pool.shutdown()
    assert len(names) == 200
    assert len(set(names)) == 1, f"quick calls spread over {sorted(set(names))}"


def test_a_blocked_call_does_not_hold_up_the_next():
    pool = WebThreads(4, spare_after=0.002)
    release = threading.Event()

    async def main():
        loop = asyncio.get_running_loop()
        blocked = loop.run_in_executor(pool, release.wait, 10)
        await asyncio.sleep(0.01)  # the blocked call has started
        started = time.monotonic()
        quick = await asyncio.wait_for(loop.run_in_executor(pool, pow, 3, 2), timeout=5)
        waited = time.monotonic() - started
        assert not blocked.done()
        release.set()
        assert await blocked is True
        return quick, waited

    quick, waited = _run(main())
    pool.shutdown()
    assert quick == 9
    assert waited < 1.0, f"the quick call waited {waited:.3f} s behind the blocked one"


def test_never_more_threads_than_max_workers():
    pool = WebThreads(3, spare_after=0.001)
    release = threading.Event()
    running: set[str] = set()

    def hold():
        running.add(threading.current_thread().name)
        release.wait(10)

    async def main():
        loop = asyncio.get_running_loop()
        calls = [loop.run_in_executor(pool, hold) for _ in range(8)]
        await asyncio.sleep(0.2)  # every watch has had its chance to wake a thread
        at_most = len(running)
        release.set()
        await asyncio.gather(*calls)
        return at_most

    at_most = _run(main())
    pool.shutdown()
    assert at_most == 3


def test_submitted_from_a_thread_without_a_loop():
    pool = WebThreads(2)
    assert pool.submit(sum, [1, 2, 3]).result(timeout=5) == 6
    pool.shutdown()
    with pytest.raises(RuntimeError):
        pool.submit(sum, [1])
