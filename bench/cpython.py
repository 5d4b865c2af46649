"""CPython's executors, measured the way bench/run.mjs measures web-executors.

Prints one JSON object: round trip and burst of a no-op through
`loop.run_in_executor` on a ThreadPoolExecutor and a ProcessPoolExecutor of 2
workers, and the CPU loop on one core. Sizes come from the environment
(BENCH_TRIPS, BENCH_BURST, BENCH_CPU_N), so both sides use the same numbers.
"""

import asyncio
import json
import math
import os
import platform
import statistics
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

TRIPS = int(os.environ.get("BENCH_TRIPS", 300))
BURST = int(os.environ.get("BENCH_BURST", 100_000))
CPU_N = int(os.environ.get("BENCH_CPU_N", 50_000_000))


def noop():
    return None


def sum_sqrt(n):
    return sum(math.sqrt(i) for i in range(n))


async def measure(executor):
    loop = asyncio.get_running_loop()
    # Start every worker before timing, as the browser side does.
    await asyncio.gather(*(loop.run_in_executor(executor, noop) for _ in range(4)))
    trips = []
    for _ in range(TRIPS):
        start = time.perf_counter()
        await loop.run_in_executor(executor, noop)
        trips.append(time.perf_counter() - start)
    start = time.perf_counter()
    await asyncio.gather(*(loop.run_in_executor(executor, noop) for _ in range(BURST)))
    burst = time.perf_counter() - start
    return {"roundTripMs": statistics.median(trips) * 1000, "burstMs": burst * 1000}


def main():
    figures = {"python": platform.python_version()}
    with ThreadPoolExecutor(max_workers=2) as threads:
        figures["threads"] = asyncio.run(measure(threads))
    with ProcessPoolExecutor(max_workers=2) as processes:
        figures["processes"] = asyncio.run(measure(processes))
    start = time.perf_counter()
    sum_sqrt(CPU_N)
    figures["cpuLoopMs"] = (time.perf_counter() - start) * 1000
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
