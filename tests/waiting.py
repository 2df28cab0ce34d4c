"""Waiting in tests for something another process or thread does."""

import time


def wait_for(condition, timeout: float = 60, interval: float = 0.05):
    """The first truthy value of ``condition()``, polled every ``interval`` seconds; an
    AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {condition}")
