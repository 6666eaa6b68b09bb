"""Races between real threads on real PostgreSQL."""

import threading

from django.db import connection


def run_in_threads(work, count):
    """Run `work(index)` in `count` threads released together; return each result or exception, in order."""
    barrier = threading.Barrier(count)
    outcomes = [None] * count

    def run(index):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = work(index)
        except Exception as exc:  # collected for the test to assert on
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes
