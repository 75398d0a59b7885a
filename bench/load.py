"""The HTTP API under concurrent clients: ``python -m bench.load [--url URL] [--clients 64] [--cases 3]``.

Each client logs in (clerks ``clerk`` and ``clerk2`` in turn), then for each of its cases registers it, accepts it,
reads it, searches the list and completes it, as a window would. Prints clients, requests, requests/s, p50/p99
latency per request and the errors (5xx answers and requests that got no answer in time). Run it against
``make run`` (default URL) or any casehall API; ``tests/test_load.py`` runs it in the suite at a small size.
"""

import asyncio
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

CLERKS = ("clerk", "clerk2")
PASSWORD = "casehall"  # the demo log-ins of `make run`
CASE: dict[str, Any] = {
    "item_code": "MKT-001", "description": "load test",
    "applicant": {"name": "bench", "phone": "13800138000", "id_number": "220201199001011238"},
    "submitted_materials": ["经营者身份证明", "经营场所使用证明", "从业人员情况说明"],
}
REQUEST_TIMEOUT = 60.0  # seconds: a request without an answer by then counts as an error ("timeout")


@dataclass
class LoadReport:
    clients: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, one per answered request
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # "503 POST /cases/{no}/accept", "timeout GET /cases"
    cases: list[str] = field(default_factory=list)
    by_request: dict[str, list[float]] = field(default_factory=dict)  # "POST /cases" -> its latencies

    @property
    def requests(self) -> int:
        return len(self.latencies) + sum(n for e, n in self.errors.items() if not e[0].isdigit())

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float, request: str | None = None) -> float:
        """Milliseconds, over every request or over one kind (``"POST /cases"``)."""
        latencies = self.by_request.get(request, []) if request else self.latencies
        if len(latencies) < 2:
            return latencies[0] * 1000 if latencies else 0.0
        return statistics.quantiles(latencies, n=100, method="inclusive")[int(p) - 1] * 1000

    def per_request(self) -> str:
        return ", ".join(f"{name} p50 {self.percentile(50, name):.0f} / p99 {self.percentile(99, name):.0f} ms"
                         for name in sorted(self.by_request))

    def table(self) -> Table:
        table = Table(title="casehall API under load")
        for column in ("clients", "requests", "requests/s", "p50 ms", "p99 ms", "errors"):
            table.add_column(column, justify="right")
        errors = ", ".join(f"{n}× {e}" for e, n in self.errors.most_common()) or "0"
        table.add_row(str(self.clients), str(self.requests), f"{self.rate:.1f}", f"{self.percentile(50):.0f}",
                      f"{self.percentile(99):.0f}", errors)
        return table


class Client:
    """One window: its own token, every request timed and counted."""

    def __init__(self, http: httpx.AsyncClient, report: LoadReport) -> None:
        self.http, self.report = http, report
        self.headers: dict[str, str] = {}

    async def call(self, method: str, path: str, label: str, **kw: Any) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            r = await self.http.request(method, path, headers=self.headers, timeout=REQUEST_TIMEOUT, **kw)
        except httpx.TimeoutException:
            self.report.errors[f"timeout {method} {label}"] += 1
            return None
        elapsed = time.perf_counter() - started
        self.report.latencies.append(elapsed)
        self.report.by_request.setdefault(f"{method} {label}", []).append(elapsed)
        self.report.statuses[r.status_code] += 1
        if r.status_code >= 500:
            self.report.errors[f"{r.status_code} {method} {label}"] += 1
        return r

    async def log_in(self, username: str) -> bool:
        r = await self.call("POST", "/auth/login", "/auth/login", json={"username": username, "password": PASSWORD})
        if r is None or r.status_code != 200:
            return False
        self.headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        return True

    async def one_case(self) -> None:
        r = await self.call("POST", "/cases", "/cases", json=CASE)
        if r is None or r.status_code != 201:
            return
        case_no = r.json()["case_no"]
        self.report.cases.append(case_no)
        await self.call("POST", f"/cases/{case_no}/accept", "/cases/{no}/accept")
        await self.call("GET", f"/cases/{case_no}", "/cases/{no}")
        await self.call("GET", "/cases", "/cases?q=", params={"q": case_no[-6:], "limit": 20})
        await self.call("POST", f"/cases/{case_no}/complete", "/cases/{no}/complete", json={"result": "准予许可"})


async def run_load(http: httpx.AsyncClient, clients: int, cases: int) -> LoadReport:
    """``clients`` windows at once, ``cases`` cases each; ``http`` carries the API's base URL (or transport)."""
    report = LoadReport(clients)

    async def window(n: int) -> None:
        client = Client(http, report)
        if await client.log_in(CLERKS[n % len(CLERKS)]):
            for _ in range(cases):
                await client.one_case()

    started = time.perf_counter()
    await asyncio.gather(*(window(n) for n in range(clients)))
    report.seconds = time.perf_counter() - started
    return report


def main(
    url: Annotated[str, typer.Option(help="the API's base URL")] = "http://127.0.0.1:8000",
    clients: Annotated[int, typer.Option(min=1, max=1000, help="concurrent windows")] = 64,
    cases: Annotated[int, typer.Option(min=1, max=1000, help="cases per window")] = 3,
) -> None:
    """Drive the API with concurrent windows and print throughput, latency and errors."""

    async def go() -> LoadReport:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(base_url=url, limits=limits) as http:
            try:
                await http.get("/healthz", timeout=10)
            except httpx.TransportError as err:
                raise typer.BadParameter(f"no casehall API at {url} ({err}): start it with `make run`") from None
            return await run_load(http, clients, cases)

    report = asyncio.run(go())
    console = Console()
    console.print(report.table())
    console.print(report.per_request())
    if report.errors:
        raise typer.Exit(1)


if __name__ == "__main__":
    typer.run(main)
