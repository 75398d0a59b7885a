"""bench/hotline.py in process (one worker, the time-skipping server): a burst filed and dispatched, and whole
lives of orders, with no error and faster than a Changchun burst (500 in ten minutes). Sizes from
CASEHALL_BENCH_BURST / CASEHALL_BENCH_LIVES (the figures in docs/hotline.md: 500 and 100)."""

import os

import httpx
from rich.console import Console

from bench.hotline import BURST_PER_SECOND, bench, table
from casehall.stack.seed import DEMO_PASSWORD


async def test_hotline_bench_keeps_ahead_of_a_burst(api: httpx.AsyncClient) -> None:
    burst = int(os.environ.get("CASEHALL_BENCH_BURST", "60"))
    lives = int(os.environ.get("CASEHALL_BENCH_LIVES", "20"))
    phases = await bench(api, burst, lives, concurrency=20, password=DEMO_PASSWORD)
    Console(width=160).print(table(phases, 20))
    assert [p.errors for p in phases] == [[], []]
    assert [p.orders for p in phases] == [burst, lives]
    assert phases[0].rate > BURST_PER_SECOND, phases[0].rate
