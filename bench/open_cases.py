"""Open cases with live timers on one machine: ``python -m bench.open_cases [--cases 100000] [--concurrency 16]``.

Starts a stack of its own under ``--data-dir`` (default ``/tmp/casehall-open-cases``, wiped at start if a previous
run of this benchmark made it; free ports): the embedded PostgreSQL and the Temporal dev server on SQLite (the
classes ``casehall up`` uses), then ``casehall worker`` and ``casehall api`` as two processes, so the worker can be
restarted alone. Through the API, ``--concurrency`` clients open ``--cases`` items that stay open with live timers:

- window cases (``MKT-001`` registered with a secondary material missing, then accepted: tolerant acceptance, status
  ``awaiting_supplement``; a supplement reminder and a deadline timer, working days away);
- every ``--order-every``-th item an **urgent 12345 order** (filed and dispatched, never signed for): its sign-for
  reminder fires after 30 minutes, the supervision order 30 minutes later, its handling deadline at 2 hours; so
  timers fire during the run, mostly on workflows no longer in the worker's cache.

Every ``--every`` seconds: items open and the rate, RSS of the Temporal server, of PostgreSQL (all its processes;
PSS too, which counts shared buffers once), of the worker and the API, disk of the SQLite file (with its WAL) and of
the PostgreSQL data directory, the worker's sticky cache (the SDK's Prometheus metrics: size, forced evictions, and
the workflow tasks that replayed a whole history because the workflow was not cached), the timers fired against
those due (from the order events in PostgreSQL: lag = event time - due) and the CPU seconds each part used.
Then: the worker restarted alone, and the whole stack, each timed until a case takes an action again (a supplement
on an open case, which replays it) and, for the stack, until the first timer fires; ``--settle`` minutes more of
samples. Prints a table of samples and of the figures, one JSON line, and keeps ``samples.json`` in the data dir.
"""

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from temporalio.client import Client

from bench.fill import asyncpg_dsn
from casehall.core.settings import Settings
from casehall.models import ids
from casehall.stack.embedded import EmbeddedPostgres, TemporalDevServer, ensure_codec_key_file, free_port
from casehall.stack.runtime import prepare_database
from casehall.stack.seed import DEMO_PASSWORD

MARKER = ".open-cases-bench"
ROOT = Path(__file__).resolve().parent.parent
CASEHALL = Path(sys.executable).parent / "casehall"
MAIN_MATERIALS = ["经营者身份证明", "经营场所使用证明"]
MISSING = "从业人员情况说明"  # secondary: the case is accepted tolerantly and waits for it with timers
UNIT = "D01-S01"
TIMER_EVENTS = ("sign_reminder", "supervision_ordered", "supervision_raised")
REQUEST_TIMEOUT = 120.0
CACHE_METRICS = {"temporal_sticky_cache_size": "cache", "temporal_sticky_cache_total_forced_eviction": "evicted",
                 "temporal_workflow_task_replay_latency_count": "replays", "temporal_num_pollers": "pollers"}


# ---- the stack ------------------------------------------------------------------------------------------------
class Stack:
    """PostgreSQL and Temporal as ``casehall up`` starts them; worker and API as ``casehall worker`` / ``api``."""

    def __init__(self, data_dir: Path, cache: int) -> None:
        self.data_dir = data_dir
        self.ports = {name: free_port() for name in ("postgres", "temporal", "ui", "api", "metrics")}
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CASEHALL_")}
        self.env.update({
            "CASEHALL_DATA_DIR": str(data_dir), "CASEHALL_POSTGRES_PORT": str(self.ports["postgres"]),
            "CASEHALL_TEMPORAL_PORT": str(self.ports["temporal"]), "CASEHALL_TEMPORAL_UI_PORT": str(self.ports["ui"]),
            "CASEHALL_API_PORT": str(self.ports["api"]), "CASEHALL_LOG_LEVEL": "WARNING",
            "CASEHALL_WORKER_METRICS_ADDRESS": f"127.0.0.1:{self.ports['metrics']}",
            "CASEHALL_WORKER_MAX_CACHED_WORKFLOWS": str(cache), "CASEHALL_DB_POOL_SIZE": "10",
        })
        self.postgres = EmbeddedPostgres(data_dir / "pgdata", self.ports["postgres"])
        self.temporal = TemporalDevServer(data_dir / "temporal", self.ports["temporal"], self.ports["ui"])
        self.worker: subprocess.Popen[bytes] | None = None
        self.api: subprocess.Popen[bytes] | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['api']}"

    def settings(self) -> Settings:
        return Settings(data_dir=self.data_dir, postgres_port=self.ports["postgres"],
                        temporal_port=self.ports["temporal"], database_url=None, temporal_address=None,
                        codec_keys=None)

    def _spawn(self, part: str) -> subprocess.Popen[bytes]:
        log = open(self.data_dir / f"{part}.log", "ab")  # noqa: SIM115 - kept open for the child's lifetime
        return subprocess.Popen([str(CASEHALL), part], env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)

    def start_worker(self) -> None:
        self.worker = self._spawn("worker")

    def start_api(self) -> None:
        self.api = self._spawn("api")

    async def wait_api(self, within: float = 180) -> None:
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(base_url=self.api_url, timeout=10) as http:
            while time.monotonic() < deadline:
                if self.api is not None and self.api.poll() is not None:
                    raise RuntimeError(f"casehall api exited with {self.api.returncode}; see "
                                       f"{self.data_dir / 'api.log'}")
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"casehall api not healthy within {within:.0f} s")

    async def wait_worker_metrics(self, within: float = 180) -> None:
        """The worker polls its task queue (the SDK reports its pollers)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.worker is not None and self.worker.poll() is not None:
                raise RuntimeError(f"casehall worker exited with {self.worker.returncode}; see "
                                   f"{self.data_dir / 'worker.log'}")
            if (await worker_metrics(self.ports["metrics"])).get("pollers", 0) > 0:
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"casehall worker did not report within {within:.0f} s")

    def start_services(self) -> dict[str, float]:
        took = {}
        began = time.monotonic()
        self.postgres.start(timeout=300)
        took["postgres_s"] = time.monotonic() - began
        began = time.monotonic()
        self.temporal.start(timeout=600)
        took["temporal_s"] = time.monotonic() - began
        return took

    def stop_part(self, proc: subprocess.Popen[bytes] | None) -> float:
        began = time.monotonic()
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return time.monotonic() - began

    def stop_all(self) -> dict[str, float]:
        took = {"api_s": self.stop_part(self.api), "worker_s": self.stop_part(self.worker)}
        began = time.monotonic()
        self.temporal.stop()
        took["temporal_s"] = time.monotonic() - began
        began = time.monotonic()
        self.postgres.stop()
        took["postgres_s"] = time.monotonic() - began
        return took

    def pids(self) -> dict[str, list[int]]:
        def tree(proc: subprocess.Popen[bytes] | None) -> list[int]:
            if proc is None or proc.poll() is not None:
                return []
            try:
                return [proc.pid, *(c.pid for c in psutil.Process(proc.pid).children(recursive=True))]
            except psutil.NoSuchProcess:
                return []

        return {"temporal": tree(self.temporal.proc), "postgres": tree(self.postgres.proc),
                "worker": tree(self.worker), "api": tree(self.api)}


def usage(pids: list[int]) -> tuple[float, float, float]:
    """RSS and PSS (MB) and CPU seconds since start, summed over the processes."""
    rss = pss = cpu = 0.0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            info, times = proc.memory_full_info(), proc.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        rss += info.rss
        pss += getattr(info, "pss", info.rss)
        cpu += times.user + times.system
    return rss / 2**20, pss / 2**20, cpu


def disk_mb(path: Path, prefix: str | None = None) -> float:
    if prefix is not None:
        return sum(p.stat().st_size for p in path.glob(prefix + "*") if p.is_file()) / 2**20
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except FileNotFoundError:
                continue
    return total / 2**20


async def worker_metrics(port: int) -> dict[str, float]:
    """The sticky-cache figures from the worker's Prometheus endpoint (summed over label sets); {} if it is down."""
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    except httpx.HTTPError:
        return {}
    found: dict[str, float] = {}
    for line in text.splitlines():
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name in CACHE_METRICS and not line.startswith("#"):
            key = CACHE_METRICS[name]
            found[key] = found.get(key, 0.0) + float(line.rsplit(" ", 1)[1])
    return found


# ---- the clients ----------------------------------------------------------------------------------------------
@dataclass
class Fill:
    opened_cases: int = 0
    opened_orders: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds per item (two requests)
    case_nos: list[str] = field(default_factory=list)
    started: float = 0.0
    seconds: float = 0.0

    @property
    def opened(self) -> int:
        return self.opened_cases + self.opened_orders


class Hall:
    """The API as the hall's clerk and the hotline's operator and dispatcher use it."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.headers: dict[str, dict[str, str]] = {}

    async def login(self) -> None:
        for user in ("clerk", "operator", "dispatcher"):
            r = await self.http.post("/auth/login", json={"username": user, "password": DEMO_PASSWORD})
            if r.status_code != 200:
                raise RuntimeError(f"log-in as {user}: {r.status_code} {r.text[:200]}")
            self.headers[user] = {"Authorization": f"Bearer {r.json()['access_token']}"}

    async def post(self, user: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = await self.http.post(path, json=body, headers=self.headers[user], timeout=REQUEST_TIMEOUT)
        if r.status_code >= 300:
            raise RuntimeError(f"{r.status_code} POST {path.split('/')[1]}: {r.text[:160]}")
        answer: dict[str, Any] = r.json()
        return answer

    async def open_case(self, i: int) -> str:
        case = await self.post("clerk", "/cases", {
            "item_code": "MKT-001", "submitted_materials": MAIN_MATERIALS, "description": f"open-cases bench {i}",
            "applicant": {"name": "bench", "phone": "13800000000", "id_number": "220201199001011238"}})
        accepted = await self.post("clerk", f"/cases/{case['case_no']}/accept", {})
        if accepted["status"] != "awaiting_supplement":
            raise RuntimeError(f"{case['case_no']} is {accepted['status']} after accept")
        no: str = case["case_no"]
        return no

    async def open_order(self, i: int, run: int) -> None:
        filed = await self.post("operator", "/orders", {
            "caller": {"name": "压测", "phone": f"139{(run + i) % 10**8:08d}"}, "new_order": True, "kind": "urgent",
            "location": {"address": f"朝阳区红旗街道压测路{run}-{i}号"}, "content": f"第{i}号井盖缺失，急",
            "category_code": "080101"})
        no = filed["order"]["order_no"]
        dispatched = await self.post("dispatcher", f"/orders/{no}/dispatch", {"lead_unit": UNIT})
        if dispatched["status"] != "dispatched":
            raise RuntimeError(f"{no} is {dispatched['status']} after dispatch")

    async def supplement(self, case_no: str) -> None:
        answer = await self.post("clerk", f"/cases/{case_no}/supplements", {"items": [MISSING]})
        if answer["status"] != "in_handling":
            raise RuntimeError(f"{case_no} is {answer['status']} after its supplement")


async def fill(hall: Hall, fill_state: Fill, n: int, concurrency: int, order_every: int, until: float) -> None:
    indexes = iter(range(n))
    run = int(time.time()) % 10**6 * 1000

    async def lane() -> None:
        for i in indexes:
            if time.monotonic() > until:
                return
            began = time.monotonic()
            try:
                if order_every and i % order_every == order_every - 1:
                    await hall.open_order(i, run)
                    fill_state.opened_orders += 1
                else:
                    fill_state.case_nos.append(await hall.open_case(i))
                    fill_state.opened_cases += 1
            except (RuntimeError, httpx.HTTPError, KeyError) as err:
                fill_state.errors.append(f"{type(err).__name__}: {str(err)[:200]}")
                if len(fill_state.errors) > max(50, n // 100):
                    raise RuntimeError(f"too many errors; the last: {fill_state.errors[-1]}") from None
                continue
            fill_state.latencies.append(time.monotonic() - began)

    fill_state.started = time.monotonic()
    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(lane())
    fill_state.seconds = time.monotonic() - fill_state.started


async def probe(hall: Hall, case_nos: list[str], count: int, began: float) -> dict[str, float]:
    """``count`` supplements on open cases (each replays its case on the worker): seconds from ``began`` to the
    first answer, p50 of one."""
    chosen = [case_nos.pop(random.randrange(len(case_nos))) for _ in range(min(count, len(case_nos)))]
    answered: list[float] = []
    latencies: list[float] = []

    async def one(no: str) -> None:
        start = time.monotonic()
        await hall.supplement(no)
        answered.append(time.monotonic() - began)
        latencies.append(time.monotonic() - start)

    await asyncio.gather(*(one(no) for no in chosen))
    return {"first_action_s": min(answered), "action_p50_s": sorted(latencies)[len(latencies) // 2],
            "actions": len(chosen)}


# ---- samples ----------------------------------------------------------------------------------------------------
TIMERS_SQL = """
WITH r AS (SELECT order_no, at, (payload->>'sign_due')::timestamptz AS due,
                  (payload->>'supervision_at')::timestamptz AS sup_due
           FROM order_events WHERE type = 'sign_reminder'),
     s AS (SELECT e.order_no, e.at FROM order_events e WHERE e.type = 'supervision_ordered')
SELECT (SELECT count(*) FROM orders WHERE sign_due <= now() AND kind = 'urgent') AS reminders_due,
       (SELECT count(*) FROM r) AS reminders,
       (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM at - due)) FROM r) AS rem_p50,
       (SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM at - due)) FROM r) AS rem_p99,
       (SELECT max(extract(epoch FROM at - due)) FROM r) AS rem_max,
       (SELECT count(*) FROM r WHERE sup_due <= now()) AS supervisions_due,
       (SELECT count(*) FROM s) AS supervisions,
       (SELECT max(extract(epoch FROM s.at - r.sup_due)) FROM s JOIN r USING (order_no)) AS sup_max,
       (SELECT count(*) FROM cases WHERE status = 'awaiting_supplement') AS cases_open,
       (SELECT count(*) FROM orders WHERE closed_at IS NULL) AS orders_open
"""


async def timers(dsn: str) -> dict[str, float]:
    try:
        conn = await asyncpg.connect(dsn, timeout=10)
    except (OSError, asyncpg.PostgresError):
        return {}
    try:
        row = await conn.fetchrow(TIMERS_SQL)
    finally:
        await conn.close()
    return {k: float(v) if v is not None else 0.0 for k, v in dict(row).items()}


@dataclass
class Sample:
    minute: float
    phase: str
    opened: int
    rate: float
    temporal_mb: float
    postgres_mb: float
    postgres_pss_mb: float
    worker_mb: float
    api_mb: float
    sqlite_mb: float
    pgdata_mb: float
    cache: float
    evicted: float
    replays: float
    reminders: float
    reminders_due: float
    rem_p99_s: float
    cpu_temporal_s: float  # CPU seconds since the process started (PostgreSQL: of its live processes)
    cpu_postgres_s: float
    cpu_worker_s: float
    cpu_api_s: float


class Sampler:
    def __init__(self, stack: Stack, fill_state: Fill, every: float, t0: float) -> None:
        self.stack, self.fill, self.every, self.t0 = stack, fill_state, every, t0
        self.samples: list[Sample] = []
        self.phase = "fill"
        self.dsn = asyncpg_dsn(stack.settings().resolved_database_url())
        self._last = (t0, 0)

    async def take(self) -> Sample:
        now = time.monotonic()
        pids = self.stack.pids()
        temporal, _, temporal_cpu = usage(pids["temporal"])
        postgres, postgres_pss, postgres_cpu = usage(pids["postgres"])
        worker, _, worker_cpu = usage(pids["worker"])
        api, _, api_cpu = usage(pids["api"])
        cache = await worker_metrics(self.stack.ports["metrics"])
        fired = await timers(self.dsn) if pids["postgres"] else {}
        opened = self.fill.opened
        rate = (opened - self._last[1]) / max(now - self._last[0], 1e-9)
        self._last = (now, opened)
        sample = Sample(
            minute=round((now - self.t0) / 60, 1), phase=self.phase, opened=opened, rate=round(rate, 1),
            temporal_mb=round(temporal), postgres_mb=round(postgres), postgres_pss_mb=round(postgres_pss),
            worker_mb=round(worker), api_mb=round(api),
            sqlite_mb=round(disk_mb(self.stack.temporal.data_dir, "temporal.db"), 1),
            pgdata_mb=round(disk_mb(self.stack.postgres.pgdata)), cache=cache.get("cache", 0),
            evicted=cache.get("evicted", 0), replays=cache.get("replays", 0), reminders=fired.get("reminders", -1),
            reminders_due=fired.get("reminders_due", -1), rem_p99_s=round(fired.get("rem_p99", 0.0), 1),
            cpu_temporal_s=round(temporal_cpu), cpu_postgres_s=round(postgres_cpu), cpu_worker_s=round(worker_cpu),
            cpu_api_s=round(api_cpu))
        self.samples.append(sample)
        print("  ".join(f"{k}={v}" for k, v in asdict(sample).items()), flush=True)
        return sample

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.take()
            except Exception as err:  # noqa: BLE001 - a sample lost (a service mid-restart) is not the run lost
                print(f"sample failed: {type(err).__name__}: {err}", flush=True)


# ---- the run ------------------------------------------------------------------------------------------------------
def prepare_dir(data_dir: Path) -> None:
    if data_dir.exists():
        if not (data_dir / MARKER).exists():
            raise RuntimeError(f"{data_dir} exists and was not made by this benchmark: choose another --data-dir")
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    (data_dir / MARKER).write_text("made by python -m bench.open_cases; deleted by its next run\n")


async def first_timer_after(dsn: str, since_epoch: float, began: float, within: float) -> float | None:
    """Seconds from ``began`` until an order event fired by a timer is stored with a time after ``since_epoch``."""
    deadline = time.monotonic() + within
    conn = await asyncpg.connect(dsn)
    try:
        while time.monotonic() < deadline:
            if await conn.fetchval("SELECT count(*) FROM order_events WHERE type = ANY($1::text[]) AND at > "
                                   "to_timestamp($2)", list(TIMER_EVENTS), since_epoch):
                return time.monotonic() - began
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
    return None


async def history_kb(stack: Stack, workflow_id: str) -> tuple[int, float]:
    client = await Client.connect(stack.settings().resolved_temporal_address())
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return len(history.events), round(sum(e.ByteSize() for e in history.events) / 1024, 1)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    data_dir = args.data_dir.resolve()
    prepare_dir(data_dir)
    stack = Stack(data_dir, args.cache)
    figures: dict[str, Any] = {"cases_asked": args.cases, "concurrency": args.concurrency, "cache": args.cache,
                               "order_every": args.order_every}
    t0 = time.monotonic()
    fill_state = Fill()
    sampler = Sampler(stack, fill_state, args.every, t0)
    try:
        ensure_codec_key_file(data_dir)
        figures["first_start"] = stack.start_services()
        await prepare_database(stack.settings(), seed=True)
        stack.start_worker()
        stack.start_api()
        await stack.wait_api()
        await stack.wait_worker_metrics()
        print(f"stack up in {time.monotonic() - t0:.0f} s under {data_dir}; ports {stack.ports}", flush=True)
        await sampler.take()
        sampling = asyncio.create_task(sampler.run())
        limits = httpx.Limits(max_connections=args.concurrency * 2, max_keepalive_connections=args.concurrency * 2)
        async with httpx.AsyncClient(base_url=stack.api_url, timeout=REQUEST_TIMEOUT, limits=limits) as http:
            hall = Hall(http)
            await hall.login()
            until = time.monotonic() + args.fill_minutes * 60 if args.fill_minutes else float("inf")
            await fill(hall, fill_state, args.cases, args.concurrency, args.order_every, until)
            lat = sorted(fill_state.latencies)
            figures["fill"] = {
                "cases": fill_state.opened_cases, "orders": fill_state.opened_orders,
                "seconds": round(fill_state.seconds), "items_per_s": round(fill_state.opened / fill_state.seconds, 2),
                "item_p50_s": round(lat[len(lat) // 2], 2), "item_p99_s": round(lat[int(len(lat) * 0.99)], 2),
                "errors": len(fill_state.errors), "first_errors": fill_state.errors[:3]}
            print(f"filled: {figures['fill']}", flush=True)
            sampler.phase = "open"
            await sampler.take()
            figures["at_rest"] = asdict(await sampler.take())
            figures["history_case"] = await history_kb(stack, ids.case_workflow_id(fill_state.case_nos[0]))

            # the worker alone
            sampler.phase = "worker restart"
            stop_s = stack.stop_part(stack.worker)
            began = time.monotonic()
            stack.start_worker()
            await stack.wait_worker_metrics()
            ready = time.monotonic() - began
            figures["worker_restart"] = {"stop_s": round(stop_s, 1), "reporting_s": round(ready, 1),
                                         **await probe(hall, fill_state.case_nos, args.probes, began)}
            print(f"worker restart: {figures['worker_restart']}", flush=True)

            # the whole stack
            sampler.phase = "stack restart"
            stopped = stack.stop_all()
            down_at = time.time()
            began = time.monotonic()
            started = stack.start_services()
            stack.start_worker()
            stack.start_api()
            await stack.wait_api()
            api_ready = time.monotonic() - began
            await stack.wait_worker_metrics()
            worker_ready = time.monotonic() - began
            first_timer = asyncio.create_task(first_timer_after(
                sampler.dsn, down_at, began, args.settle * 60 if fill_state.opened_orders else 0))
            figures["stack_restart"] = {
                "stop": {k: round(v, 1) for k, v in stopped.items()},
                "start": {k: round(v, 1) for k, v in started.items()}, "api_healthy_s": round(api_ready, 1),
                "worker_reporting_s": round(worker_ready, 1),
                **await probe(hall, fill_state.case_nos, args.probes, began)}
            print(f"stack restart: {figures['stack_restart']}", flush=True)
            sampler.phase = "after restart"
            await asyncio.sleep(args.settle * 60)
            first = await first_timer
            figures["stack_restart"]["first_timer_s"] = round(first, 1) if first is not None else None
            figures["after"] = asdict(await sampler.take())
            figures["timers"] = await timers(sampler.dsn)
            if fill_state.opened_orders:
                conn = await asyncpg.connect(sampler.dsn)
                try:
                    order_no = await conn.fetchval("SELECT order_no FROM orders ORDER BY registered_at LIMIT 1")
                finally:
                    await conn.close()
                figures["history_order"] = await history_kb(stack, ids.order_workflow_id(order_no))
        sampling.cancel()
    finally:
        stack.stop_all()
    figures["samples"] = [asdict(s) for s in sampler.samples]
    figures["growth"] = growth(figures["samples"], args.cases)
    (data_dir / "samples.json").write_text(json.dumps(figures, ensure_ascii=False, indent=1))
    return figures


GROWING = ("temporal_mb", "postgres_mb", "postgres_pss_mb", "worker_mb", "api_mb", "sqlite_mb", "pgdata_mb")


def growth(samples: list[dict[str, Any]], target: int) -> dict[str, tuple[float, float]]:
    """Per figure: the least-squares slope per 1,000 items opened over the second half of the fill (the worker's
    cache and the server's caches are full by then: the first half's growth does not go on), and the figure
    extrapolated linearly to ``target`` items (an extrapolation, not a measurement)."""
    filled = [s for s in samples if s["phase"] == "fill" and s["opened"] > 0]
    points = [s for s in filled if s["opened"] >= filled[-1]["opened"] / 2] if filled else []
    if len(points) < 2:
        return {}
    xs = [s["opened"] for s in points]
    mean_x = sum(xs) / len(xs)
    var = sum((x - mean_x) ** 2 for x in xs)
    found = {}
    for key in GROWING:
        ys = [float(s[key]) for s in points]
        mean_y = sum(ys) / len(ys)
        slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0
        found[key] = (round(slope * 1000, 2), round(mean_y + slope * (target - mean_x)))
    return found


def report(figures: dict[str, Any]) -> None:
    samples = figures["samples"]
    keys = [k for k in samples[0] if k != "phase"] if samples else []
    print("\n" + " ".join(f"{k:>11}" for k in ["phase", *keys]))
    for s in samples:
        print(" ".join(f"{str(s[k])[:11]:>11}" for k in ["phase", *keys]))
    f, w, st, t = figures["fill"], figures["worker_restart"], figures["stack_restart"], figures["timers"]
    rest = figures["at_rest"]
    rows = [
        ("items opened (cases + urgent orders)", f"{f['cases']:,} + {f['orders']:,} in {f['seconds']:,} s: "
                                                 f"{f['items_per_s']} /s, p50 {f['item_p50_s']} s, p99 "
                                                 f"{f['item_p99_s']} s per item, {f['errors']} errors"),
        ("Temporal server RSS", f"{rest['temporal_mb']} MB open; {figures['after']['temporal_mb']} MB after restart"),
        ("PostgreSQL RSS (PSS)", f"{rest['postgres_mb']} ({rest['postgres_pss_mb']}) MB"),
        ("worker / API RSS", f"{rest['worker_mb']} / {rest['api_mb']} MB"),
        ("SQLite file / pgdata", f"{rest['sqlite_mb']} MB / {rest['pgdata_mb']} MB"),
        ("sticky cache", f"size {rest['cache']:.0f} (max {figures['cache']}), forced evictions {rest['evicted']:.0f}, "
                         f"replays {rest['replays']:.0f}"),
        ("history of a case", f"{figures['history_case'][0]} events, {figures['history_case'][1]} KB"),
        ("timers (urgent orders)", f"reminders {t.get('reminders', 0):.0f} of {t.get('reminders_due', 0):.0f} due, "
                                   f"lag p50 {t.get('rem_p50', 0):.1f} s p99 {t.get('rem_p99', 0):.1f} s max "
                                   f"{t.get('rem_max', 0):.1f} s; supervision orders {t.get('supervisions', 0):.0f} "
                                   f"of {t.get('supervisions_due', 0):.0f} due, lag max {t.get('sup_max', 0):.1f} s"),
        ("worker restart", f"stop {w['stop_s']} s; reporting {w['reporting_s']} s; first action "
                           f"{w['first_action_s']:.1f} s after start, action p50 {w['action_p50_s']:.2f} s"),
        ("stack restart", f"stop {st['stop']}; start {st['start']}; API healthy {st['api_healthy_s']} s, worker "
                          f"{st['worker_reporting_s']} s, first action {st['first_action_s']:.1f} s, first timer "
                          f"{st.get('first_timer_s')} s after start"),
    ]
    if figures["growth"]:
        rows.append((f"per 1,000 items; at {figures['cases_asked']:,} (extrapolated)",
                     "; ".join(f"{k} {v[0]:+} -> {v[1]:,}" for k, v in figures["growth"].items())))
    print()
    for name, value in rows:
        print(f"{name:<38} {value}")
    print(json.dumps({k: v for k, v in figures.items() if k != "samples"}, ensure_ascii=False, default=str))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.open_cases", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000, help="items to open (default 100000)")
    parser.add_argument("--concurrency", type=int, default=16, help="clients at a time (default 16)")
    parser.add_argument("--order-every", type=int, default=20,
                        help="every n-th item an urgent hotline order (default 20; 0: none)")
    parser.add_argument("--fill-minutes", type=float, default=0, help="stop opening after this long (0: never)")
    parser.add_argument("--every", type=float, default=30, help="seconds between samples (default 30)")
    parser.add_argument("--cache", type=int, default=1000, help="the worker's max_cached_workflows (default 1000)")
    parser.add_argument("--probes", type=int, default=10, help="actions timed after each restart (default 10)")
    parser.add_argument("--settle", type=float, default=3, help="minutes of samples after the restart (default 3)")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/casehall-open-cases"))
    args = parser.parse_args(argv)
    if min(args.cases, args.concurrency, args.every, args.probes) < 1 or args.order_every < 0:
        parser.error("--cases, --concurrency, --every and --probes must be at least 1, --order-every at least 0")
    try:
        figures = asyncio.run(run(args))
    except (OSError, RuntimeError, httpx.HTTPError) as err:
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    report(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
