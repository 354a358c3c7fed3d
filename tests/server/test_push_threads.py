"""The push threads (server.api.PushThreads): the thread that finished last takes the next push."""

from __future__ import annotations

import asyncio
import threading

import pytest

from server.api import PushThreads


def test_pushes_one_after_another_run_on_the_thread_that_finished_last_and_overlapping_ones_each_get_one():
    started: list[str] = []
    threads = PushThreads(3, lambda: started.append(threading.current_thread().name))

    async def scenario():
        gate = threading.Event()

        def held():  # two pushes at once: two threads
            gate.wait(10)
            return threading.current_thread().name

        first = asyncio.ensure_future(threads.run(held))
        second = asyncio.ensure_future(threads.run(held))
        await asyncio.sleep(0.05)
        gate.set()
        overlapping = {await first, await second}
        # then one at a time, as paced stations push: each on the thread idle last
        alone = [await threads.run(lambda: threading.current_thread().name) for _ in range(20)]
        return overlapping, alone

    overlapping, alone = asyncio.run(scenario())
    assert len(overlapping) == 2 and sorted(started) == sorted(overlapping)  # a thread each, each initialised once
    assert len(set(alone)) == 1 and alone[0] in overlapping


def test_more_pushes_than_threads_wait_for_one_and_a_failure_reaches_its_own_request_only():
    threads = PushThreads(2, lambda: None)
    names: set[str] = set()

    def work(i: int):
        names.add(threading.current_thread().name)
        if i == 3:
            raise ValueError("push 3 failed")
        return i

    async def scenario():
        return await asyncio.gather(*(threads.run(lambda i=i: work(i)) for i in range(10)), return_exceptions=True)

    outcomes = asyncio.run(scenario())
    assert [o for o in outcomes if not isinstance(o, Exception)] == [0, 1, 2, 4, 5, 6, 7, 8, 9]
    with pytest.raises(ValueError, match="push 3 failed"):
        raise outcomes[3]
    assert len(names) == 2  # never more threads than allowed
