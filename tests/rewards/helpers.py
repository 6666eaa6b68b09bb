import threading

from django.db import connection

from rewards import services
from rewards.verification import find_violations


def give_points(resident, amount, cause=None):
    return services.credit(
        resident=resident,
        amount=amount,
        cause=cause or f"test-grant:{resident.pk}:{amount}",
        kind="adjustment",
    )


def run_in_threads(target, count):
    """Run target(i) in `count` threads released at once; returns results or exceptions in order."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def worker(index):
        try:
            barrier.wait()
            results[index] = target(index)
        except Exception as exc:  # collected and asserted by the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def assert_ledger_consistent():
    assert find_violations() == []
