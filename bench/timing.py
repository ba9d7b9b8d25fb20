"""Shared timing helper for the side-by-side benchmarks."""
import time


def median_time(body, repeats=20, warmup=3):
    """Median wall time of body() in seconds, after warm-up calls."""
    for _ in range(warmup):
        body()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]
