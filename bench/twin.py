"""Per click, casehall through its HTTP API against a bare twin: ``python -m bench.twin [--cases N] [--concurrency C]``.

The twin does exactly the Temporal work of a yes-path case and nothing else: a workflow started and asked for its
registration (an update), then an ``accept`` update and a ``complete`` update; each of the three runs one local
activity inserting one row with asyncpg into the same PostgreSQL (database ``casehall_twin``, created if missing),
and after completion the workflow waits three days as a case waits for its callback. The twin runs on a worker
process of its own (``python -m bench.twin --worker``), started by the benchmark.

casehall is driven as a clerk drives it, over HTTP against the running API (``make run``): ``POST /cases``,
``POST /cases/{no}/accept``, ``POST /cases/{no}/complete``. Both run with the same concurrency (C lanes, each
starting its next case when its previous one finished), in alternating rounds (casehall, twin, casehall, twin, ...)
after a warm-up. Printed: cases/s per round, p50/p99 of each step (a "click") and of all steps, the ratios, and the
CPU time per case of each process on this machine (casehall's API and worker, the twin's worker and clients, the
Temporal server, PostgreSQL): on a shared machine the rates move with the neighbours, the CPU per case much less.
Every workflow started (casehall cases and twins) is terminated at the end; the casehall cases stay
``awaiting_callback`` in the database (applicant ``bench``, description ``casehall twin benchmark``).
"""

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from bench.fill import asyncpg_dsn, fresh_database
from bench.twin_workflow import POOL, TASK_QUEUE, TwinWorkflow, record
from casehall.core.settings import Settings
from casehall.stack.seed import DEMO_PASSWORD

TWIN_DATABASE = "casehall_twin"
STEPS = ("register", "accept", "complete")
WARMUP = 5
STEP_TIMEOUT = 60.0
CASE_BODY = {"item_code": "MKT-001", "submitted_materials": ["经营者身份证明", "经营场所使用证明", "从业人员情况说明"],
             "applicant": {"name": "bench", "phone": "13800000000", "id_number": "220201199001011238"}}


async def run_worker(settings: Settings) -> None:
    """The twin's worker (its own process), until SIGTERM."""
    dsn = asyncpg_dsn(settings.resolved_database_url().rsplit("/", 1)[0] + f"/{TWIN_DATABASE}")
    POOL["pool"] = await asyncpg.create_pool(dsn, min_size=2, max_size=10)
    client = await Client.connect(settings.resolved_temporal_address(), namespace=settings.temporal_namespace)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with Worker(client, task_queue=TASK_QUEUE, workflows=[TwinWorkflow], activities=[record]):
        print("ready", flush=True)
        await stop.wait()
    await POOL["pool"].close()


TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def listening_pid(port: int) -> int | None:
    """The process listening on TCP ``port`` of this machine (from /proc), if any."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == "0A":  # LISTEN
                inodes.add(f"socket:[{cols[9]}]")
    for pid in (e for e in os.listdir("/proc") if e.isdigit()) if inodes else ():
        try:
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") in inodes for fd in os.listdir(f"/proc/{pid}/fd")):
                return int(pid)
        except OSError:
            continue
    return None


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def children(pid: int) -> list[int]:
    found = []
    for entry in (e for e in os.listdir("/proc") if e.isdigit()):
        try:
            with open(f"/proc/{entry}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return found


def processes(settings: Settings, twin_worker: int) -> dict[str, list[int]]:
    """The processes a round's CPU time is counted on, by part: the API (the process listening on its port) and
    its child processes (``casehall up``'s worker), the twin's worker, the Temporal server and PostgreSQL (the
    processes listening on their ports, and PostgreSQL's backends)."""
    parts: dict[str, list[int]] = {"casehall": [], "twin worker": [twin_worker], "temporal": [], "postgres": []}
    if (api := listening_pid(settings.api_port)) is not None:
        parts["casehall"] = [api, *(pid for pid in children(api) if "casehall" in cmdline(pid))]  # not the
        # embedded PostgreSQL and Temporal that ``casehall up`` also starts
    if (temporal := listening_pid(int(settings.resolved_temporal_address().rsplit(":", 1)[1]))) is not None:
        parts["temporal"] = [temporal]
    port = settings.postgres_port if settings.embedded_database else None
    if port is not None and (postmaster := listening_pid(port)) is not None:
        parts["postgres"] = [postmaster, *children(postmaster)]
    return parts


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) so far of each process still running."""
    times = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            times[pid] = (int(fields[11]) + int(fields[12])) / TICKS
        except (OSError, IndexError, ValueError):
            continue
    return times


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two readings by the processes in both."""
    return sum(after[pid] - before[pid] for pid in after.keys() & before.keys())


@dataclass
class Round:
    name: str
    seconds: float = 0.0
    cases: int = 0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per part during the round
    steps: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})

    @property
    def rate(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] * 1000 if ordered else 0.0


async def lanes(n: int, concurrency: int, one: Callable[[int, Round], Awaitable[None]], name: str,
                parts: Callable[[], dict[str, list[int]]] = dict) -> Round:
    """``n`` cases over ``concurrency`` lanes; the CPU time of the ``parts`` processes counted meanwhile."""
    result = Round(name)
    indexes = iter(range(n))

    async def lane() -> None:
        for i in indexes:
            await one(i, result)
            result.cases += 1

    watched = parts()
    before = {part: cpu_seconds(pids) for part, pids in watched.items()}
    own = time.process_time()
    start = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(min(n, concurrency)):
            group.create_task(lane())
    result.seconds = time.perf_counter() - start
    result.cpu = {part: spent(before[part], cpu_seconds(pids)) for part, pids in watched.items()}
    result.cpu["clients"] = time.process_time() - own
    return result


async def timed(result: Round, step: str, call: Awaitable[Any]) -> Any:
    start = time.perf_counter()
    async with asyncio.timeout(STEP_TIMEOUT):
        value = await call
    result.steps[step].append(time.perf_counter() - start)
    return value


class Casehall:
    """A clerk at the window, over HTTP."""

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http, self.headers = http, {"Authorization": f"Bearer {token}"}
        self.case_nos: list[str] = []

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = await self.http.post(path, json=body, headers=self.headers)
        if r.status_code not in (200, 201):
            raise RuntimeError(f"POST {path}: {r.status_code} {r.text[:300]}")
        answer: dict[str, Any] = r.json()
        return answer

    async def one(self, i: int, result: Round) -> None:
        case = await timed(result, "register", self._post("/cases", {**CASE_BODY,
                                                                     "description": f"casehall twin benchmark {i}"}))
        self.case_nos.append(case["case_no"])
        accepted = await timed(result, "accept", self._post(f"/cases/{case['case_no']}/accept", {}))
        completed = await timed(result, "complete", self._post(f"/cases/{case['case_no']}/complete",
                                                               {"result": "benchmark: done"}))
        if accepted["status"] != "in_handling" or completed["status"] != "awaiting_callback":
            raise RuntimeError(f"{case['case_no']}: {accepted['status']} then {completed['status']}")


class Twin:
    def __init__(self, client: Client) -> None:
        self.client = client
        self.ids: list[str] = []

    async def one(self, i: int, result: Round) -> None:
        wid = f"bench-twin-{uuid.uuid4()}"
        self.ids.append(wid)

        async def register() -> WorkflowHandle[Any, Any]:
            handle = await self.client.start_workflow(TwinWorkflow.run, wid, id=wid, task_queue=TASK_QUEUE)
            await handle.execute_update(TwinWorkflow.registration)
            return handle

        handle = await timed(result, "register", register())
        await timed(result, "accept", handle.execute_update(TwinWorkflow.accept))
        await timed(result, "complete", handle.execute_update(TwinWorkflow.complete))


async def terminate(client: Client, ids: list[str]) -> None:
    limit = asyncio.Semaphore(10)

    async def one(wid: str) -> None:
        async with limit:
            try:
                await client.get_workflow_handle(wid).terminate(reason="casehall twin benchmark finished")
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:
                    raise

    await asyncio.gather(*(one(w) for w in ids), return_exceptions=True)


def start_worker() -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-m", "bench.twin", "--worker"], stdout=subprocess.PIPE, text=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        proc.kill()
        raise RuntimeError("the twin's worker did not start (see its error above)")
    return proc


async def prepare_twin_database(settings: Settings) -> None:
    base = settings.resolved_database_url()
    url = base.rsplit("/", 1)[0] + f"/{TWIN_DATABASE}"
    try:
        conn = await asyncpg.connect(asyncpg_dsn(url))
    except asyncpg.InvalidCatalogNameError:
        await fresh_database(base, TWIN_DATABASE)
        conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS twin_steps (id bigserial PRIMARY KEY, case_id text NOT NULL,"
                           " seq int NOT NULL, kind text NOT NULL, at timestamptz NOT NULL, payload jsonb NOT NULL,"
                           " UNIQUE (case_id, seq))")
    finally:
        await conn.close()


async def bench(settings: Settings, api: str, cases: int, concurrency: int, rounds: int) -> list[Round]:
    await prepare_twin_database(settings)
    client = await Client.connect(settings.resolved_temporal_address(), namespace=settings.temporal_namespace)
    worker = start_worker()
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
    try:
        async with httpx.AsyncClient(base_url=api, timeout=STEP_TIMEOUT, limits=limits) as http:
            r = await http.post("/auth/login", json={"username": "clerk", "password": DEMO_PASSWORD})
            if r.status_code != 200:
                raise RuntimeError(f"log-in as the demo clerk failed: {r.status_code} {r.text[:200]}")
            casehall, twin = Casehall(http, r.json()["access_token"]), Twin(client)
            try:
                await lanes(WARMUP, concurrency, casehall.one, "warm-up")
                await lanes(WARMUP, concurrency, twin.one, "warm-up")
                results = []
                for k in range(rounds):
                    for name, driver in (("casehall", casehall), ("twin", twin)):
                        done = await lanes(cases, concurrency, driver.one, name,
                                           lambda: processes(settings, worker.pid))
                        print(f"round {k + 1} {name:<8} {done.rate:6.1f} cases/s  ({cases} cases in "
                              f"{done.seconds:.1f} s)", flush=True)
                        results.append(done)
            finally:
                await terminate(client, [f"case-{no}" for no in casehall.case_nos] + twin.ids)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
    return results


def report(results: list[Round], concurrency: int) -> dict[str, Any]:
    merged: dict[str, Round] = {}
    for r in results:
        m = merged.setdefault(r.name, Round(r.name))
        m.seconds += r.seconds
        m.cases += r.cases
        for part, seconds in r.cpu.items():
            m.cpu[part] = m.cpu.get(part, 0.0) + seconds
        for step in STEPS:
            m.steps[step] += r.steps[step]
    c, t = merged["casehall"], merged["twin"]
    figures: dict[str, Any] = {"concurrency": concurrency, "rounds": [(r.name, round(r.rate, 2)) for r in results],
                               "casehall_cases_per_s": round(c.rate, 2), "twin_cases_per_s": round(t.rate, 2),
                               "ratio": round(c.rate / t.rate, 2)}
    print(f"\n{'step':<10} {'casehall p50':>13} {'p99':>9} {'twin p50':>10} {'p99':>9}   p99 ratio")
    for step in (*STEPS, "all"):
        cs = c.steps[step] if step != "all" else sum(c.steps.values(), [])
        ts = t.steps[step] if step != "all" else sum(t.steps.values(), [])
        row = {"casehall_p50_ms": round(pct(cs, 50), 1), "casehall_p99_ms": round(pct(cs, 99), 1),
               "twin_p50_ms": round(pct(ts, 50), 1), "twin_p99_ms": round(pct(ts, 99), 1)}
        figures[step] = row
        print(f"{step:<10} {row['casehall_p50_ms']:>10.1f} ms {row['casehall_p99_ms']:>6.1f} ms "
              f"{row['twin_p50_ms']:>7.1f} ms {row['twin_p99_ms']:>6.1f} ms   "
              f"{row['casehall_p99_ms'] / max(row['twin_p99_ms'], 0.001):.2f}")
    print("\nCPU ms per case (this machine's processes; casehall's clients speak HTTP, the twin's gRPC):")
    for r in (c, t):
        own = ("casehall", "clients") if r is c else ("twin worker", "clients")
        shares = {part: r.cpu.get(part, 0.0) * 1000 / max(r.cases, 1) for part in (*own, "temporal", "postgres")}
        figures[f"{r.name}_cpu_ms_per_case"] = {k: round(v, 1) for k, v in shares.items()}
        print(f"  {r.name:<8} " + "  ".join(f"{k} {v:.1f}" for k, v in shares.items())
              + f"  total {sum(shares.values()):.1f}")
    print(f"\ncases/s at {concurrency} clients: casehall {c.rate:.1f}, twin {t.rate:.1f}, "
          f"ratio {c.rate / t.rate:.2f} (goal >= 0.9)")
    print(json.dumps(figures))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.twin", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100, help="cases per round and side (default 100)")
    parser.add_argument("--concurrency", type=int, default=10, help="clients at a time (default 10)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per side (default 2)")
    parser.add_argument("--api", help="the casehall API (default http://CASEHALL_API_HOST:CASEHALL_API_PORT)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    settings = Settings()
    if args.worker:
        asyncio.run(run_worker(settings))
        return 0
    if min(args.cases, args.concurrency, args.rounds) < 1:
        parser.error("--cases, --concurrency and --rounds must be at least 1")
    api = args.api or f"http://{settings.api_host}:{settings.api_port}"
    try:
        results = asyncio.run(bench(settings, api, args.cases, args.concurrency, args.rounds))
    except (OSError, RPCError, RuntimeError, httpx.HTTPError) as err:
        print(f"error: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''} "
              "(is `make run` up? the benchmark needs its API, Temporal and PostgreSQL)", file=sys.stderr)
        return 1
    report(results, args.concurrency)
    return 0


if __name__ == "__main__":
    sys.exit(main())
