"""The 12345 hotline at the seeds' volume: ``python -m bench.hotline [--url URL] [--burst 500] [--lives 100]
[--concurrency 20]``.

Changchun takes 5,000+ orders a day, in bursts of about 500 in ten minutes. Two measurements through the API, as
the hotline's people use it (demo log-ins ``operator``, ``dispatcher``, ``street-handler``):

1. **burst**: ``--burst`` calls filed (``POST /orders``) and dispatched at once (``POST /orders/{no}/dispatch``),
   ``--concurrency`` at a time: orders per second, the same per ten minutes against the 500 of a burst, and the
   intake-to-dispatch latency (p50, p95, p99);
2. **lives**: ``--lives`` orders through their whole life: filed, dispatched, signed for, replied, called back,
   closed (five requests, six events each): orders per second and the latency of one life.

Run it against ``make run`` (default URL) or any casehall API with the demo data;
``tests/hotline/test_bench_hotline.py`` runs it in process (one worker, the time-skipping server).
"""

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

PASSWORD = "casehall"  # the demo log-ins of `make run`
UNIT = "D01-S01"  # 朝阳区红旗街道
BURST_PER_SECOND = 500 / 600  # a Changchun burst: 500 orders in ten minutes
DAY_PER_SECOND = 5000 / 86_400  # 5,000 orders a day


@dataclass
class Phase:
    name: str
    orders: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds per order (intake-to-dispatch, or a whole life)
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.orders / self.seconds if self.seconds else 0.0

    def percentile(self, p: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else 0.0
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1]


class Hotline:
    """The API as the hotline's people use it: one token per demo user."""

    def __init__(self, http: httpx.AsyncClient, password: str = PASSWORD) -> None:
        self.http, self.password = http, password
        self.headers: dict[str, dict[str, str]] = {}

    async def login(self, *users: str) -> None:
        for user in users:
            r = await self.http.post("/auth/login", json={"username": user, "password": self.password})
            r.raise_for_status()
            self.headers[user] = {"Authorization": f"Bearer {r.json()['access_token']}"}

    async def post(self, user: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        r = await self.http.post(path, json=body if body is not None else {}, headers=self.headers[user])
        if r.status_code >= 300:
            raise RuntimeError(f"{r.status_code} POST {path}: {r.text[:200]}")
        answer: dict[str, Any] = r.json()
        return answer

    async def file_and_dispatch(self, n: int) -> str:
        filed = await self.post("operator", "/orders", {
            "caller": {"name": "压测", "phone": f"139{n:08d}"[-11:]}, "new_order": True, "kind": "normal",
            "location": {"address": f"朝阳区红旗街道压测路{n}号"}, "content": f"第{n}号楼前路灯不亮",
            "category_code": "080101"})
        no: str = filed["order"]["order_no"]
        await self.post("dispatcher", f"/orders/{no}/dispatch", {"lead_unit": UNIT})
        return no

    async def life(self, n: int) -> str:
        no = await self.file_and_dispatch(n)
        await self.post("street-handler", f"/orders/{no}/sign")
        await self.post("street-handler", f"/orders/{no}/reply", {"result": "已修复"})
        closed = await self.post("operator", f"/orders/{no}/callback", {"solved": True, "grade": "satisfied"})
        if closed["status"] != "closed":
            raise RuntimeError(f"{no} is {closed['status']} after its callback")
        return no


async def run_phase(name: str, count: int, concurrency: int, one: Callable[[int], Awaitable[str]],
                    offset: int = 0) -> Phase:
    phase, gate = Phase(name), asyncio.Semaphore(concurrency)

    async def timed(n: int) -> None:
        async with gate:
            began = time.perf_counter()
            try:
                await one(offset + n)
            except (RuntimeError, httpx.HTTPError) as err:
                phase.errors.append(str(err)[:200])
                return
            phase.latencies.append(time.perf_counter() - began)
            phase.orders += 1

    started = time.perf_counter()
    await asyncio.gather(*(timed(n) for n in range(count)))
    phase.seconds = time.perf_counter() - started
    return phase


async def bench(http: httpx.AsyncClient, burst: int, lives: int, concurrency: int, password: str = PASSWORD
                ) -> list[Phase]:
    hotline = Hotline(http, password)
    await hotline.login("operator", "dispatcher", "street-handler")
    seed = int(time.time()) % 1_000_000 * 1000  # distinct addresses per run (no duplicate proposals)
    return [await run_phase("burst: intake → dispatch", burst, concurrency, hotline.file_and_dispatch, seed),
            await run_phase("whole life: intake → closed", lives, concurrency, hotline.life, seed + burst)]


def table(phases: list[Phase], concurrency: int) -> Table:
    t = Table(title=f"12345 hotline, {concurrency} at a time")
    for column in ("phase", "orders", "seconds", "orders/s", "per 10 min", "x burst", "p50 s", "p95 s", "p99 s",
                   "errors"):
        t.add_column(column, justify="right")
    for p in phases:
        t.add_row(p.name, str(p.orders), f"{p.seconds:.1f}", f"{p.rate:.1f}", f"{p.rate * 600:.0f}",
                  f"{p.rate / BURST_PER_SECOND:.1f}", f"{p.percentile(50):.2f}", f"{p.percentile(95):.2f}",
                  f"{p.percentile(99):.2f}", str(len(p.errors)))
    return t


def main(url: Annotated[str, typer.Option(help="the casehall API")] = "http://127.0.0.1:8000",
         burst: Annotated[int, typer.Option(min=1, max=100_000)] = 500,
         lives: Annotated[int, typer.Option(min=1, max=100_000)] = 100,
         concurrency: Annotated[int, typer.Option(min=1, max=500)] = 20) -> None:
    """Measure a burst and whole lives of orders against a running casehall API."""
    console = Console()

    async def go() -> list[Phase]:
        async with httpx.AsyncClient(base_url=url, timeout=120) as http:
            return await bench(http, burst, lives, concurrency)

    try:
        phases = asyncio.run(go())
    except httpx.ConnectError:
        console.print(f"[red]error:[/red] no casehall API at {url} (start it with `make run`)")
        raise typer.Exit(1) from None
    console.print(table(phases, concurrency))
    console.print(f"a day of 5,000 orders is {DAY_PER_SECOND:.3f}/s; a burst of 500 in ten minutes "
                  f"{BURST_PER_SECOND:.2f}/s")
    for p in phases:
        for e in p.errors[:5]:
            console.print(f"[red]{p.name}[/red]: {e}")
    if any(p.errors for p in phases):
        raise typer.Exit(1)


if __name__ == "__main__":
    typer.run(main)
