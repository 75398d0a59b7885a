"""Audit at scale: bulk replay against the raw ``Replayer`` on the same histories, and parallel replay.

    python -m bench.audit_replay [--cases 200] [--processes 2] [--rounds 2] [--mix yes|city] [--year 300000]

Self-contained: starts an embedded PostgreSQL (temporary directory) and Temporal's time-skipping test server with
encrypted payloads, runs the casehall worker, drives ``--cases`` cases to their end, then measures in one run:

1. **raw**: the histories fetched and decoded once, replayed by one ``temporalio.worker.Replayer`` with the
   casehall workflows: the engine's own rate, with the SDK's default sandbox and with the audit's workflow runner
   (``casehall.workflows.registry.RUNNER``, the worker's: casehall's modules imported once, not per history);
2. **bulk**: ``casehall.audit.checks.audit_cases`` on the same cases (what ``casehall audit replay
   --closed-between`` runs): each history fetched from Temporal, decoded, replayed, compared with PostgreSQL, and
   every hash chain verified; its rate and the ratio bulk / raw with the same runner (goal >= 0.8). Raw and bulk
   alternate ``--rounds`` times and each keeps its fastest round (on a shared machine, noise only slows a round;
   the medians are printed too), with this process's median CPU time per case for both (less sensitive to the
   machine's other load); each phase starts after a full garbage collection, so that none pays for another's;
3. **parallel**: the same audit split over ``--processes`` processes; the time a year of a city hall (``--year``
   closed cases) would take at that rate, extrapolated (the measured figure is the rate).

``--mix yes`` (the default) drives every case down the yes path (register, accept, complete, callback rated).
``--mix city`` drives a mix of 20: 14 yes-path cases, 3 accepted with a material missing then supplemented,
1 veto refused (accepted on the manager's instruction), 1 veto approved (rejected), 1 joint consultation of two
departments concluded "accept"; every one closed (or rejected) in the end.
"""

import argparse
import asyncio
import cProfile
import gc
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from statistics import median
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from casehall.api.intake import RegisterCase, register_case
from casehall.audit.checks import audit_cases
from casehall.core.codec import Keyring, data_converter, decode_history
from casehall.core.db import make_engine, make_sessionmaker
from casehall.core.settings import Settings
from casehall.models.case import Actor, ApplicantIn, CaseView
from casehall.models.commands import (
    Accept,
    Command,
    Completion,
    SatisfactionAnswer,
    Supplement,
    VetoDecision,
    VetoRequest,
)
from casehall.models.consultation import (
    ConclusionBody,
    ConclusionDecision,
    Convene,
    OpinionBody,
    OpinionDecision,
)
from casehall.models.enums import CaseStatus, Instruction, Satisfaction
from casehall.models.ids import case_no_of, case_workflow_id, consultation_workflow_id
from casehall.stack.embedded import EmbeddedPostgres, free_port, temporal_test_server_path
from casehall.stack.seed import seed_demo
from casehall.store import queries
from casehall.store.migrate import upgrade
from casehall.worker import build_worker, case_activities
from casehall.workflows.case import CaseWorkflow
from casehall.workflows.joint_consultation import JointConsultationWorkflow
from casehall.workflows.observability import register_search_attributes
from casehall.workflows.registry import RUNNER, WORKFLOWS

TASK_QUEUE = "casehall-bench-audit"
MATERIALS = ["经营者身份证明", "经营场所使用证明", "从业人员情况说明"]
APPLICANT = ApplicantIn(name="审计基准", phone="13800000000", id_number="220201199001011238")
VETO = VetoRequest(reasons="经营范围属于前置许可", legal_basis="《市场主体登记管理条例》第十四条")


class Driver:
    """Drives cases to their end through the workflows' updates, as the API would, by the demo users."""

    def __init__(self, client: Client, sessions: async_sessionmaker[AsyncSession], task_queue: str,
                 actors: dict[str, Actor]) -> None:
        self.client, self.sessions, self.task_queue, self.actors = client, sessions, task_queue, actors

    async def register(self, materials: list[str] = MATERIALS) -> WorkflowHandle[CaseWorkflow, CaseView]:
        body = RegisterCase(item_code="MKT-001", applicant=APPLICANT, submitted_materials=materials,
                            description="审计基准案件")
        view = await register_case(self.client, self.sessions, self.task_queue, body, self.actors["clerk"])
        return self.client.get_workflow_handle_for(CaseWorkflow.run, case_workflow_id(view.case_no))

    def command(self, user: str, body: Any) -> Command[Any]:
        return Command(actor=self.actors[user], body=body)

    async def close(self, h: WorkflowHandle[CaseWorkflow, CaseView]) -> None:
        await h.execute_update(CaseWorkflow.complete, self.command("clerk", Completion(result="办结")))
        await h.execute_update(CaseWorkflow.record_satisfaction,
                               self.command("clerk", SatisfactionAnswer(grade=Satisfaction.SATISFIED)))

    async def yes(self) -> str:
        h = await self.register()
        await h.execute_update(CaseWorkflow.accept, self.command("clerk", Accept()))
        await self.close(h)
        return h.id

    async def supplement(self) -> str:
        h = await self.register(MATERIALS[:2])
        await h.execute_update(CaseWorkflow.accept, self.command("clerk", Accept()))  # accepted tolerantly
        await h.execute_update(CaseWorkflow.supplement, self.command("clerk", Supplement(items=MATERIALS[2:])))
        await self.close(h)
        return h.id

    async def veto_refused(self) -> str:
        h = await self.register()
        await h.execute_update(CaseWorkflow.request_veto, self.command("clerk", VETO))
        await h.execute_update(CaseWorkflow.decide_veto, self.command("manager", VetoDecision(
            approve=False, instruction=Instruction.ACCEPT, comment="材料齐全，应予受理")))
        await self.close(h)
        return h.id

    async def veto_approved(self) -> str:
        h = await self.register()
        await h.execute_update(CaseWorkflow.request_veto, self.command("clerk", VETO))
        await h.execute_update(CaseWorkflow.decide_veto, self.command("manager", VetoDecision(approve=True)))
        return h.id

    async def consultation(self) -> str:
        h = await self.register()
        view = await h.execute_update(CaseWorkflow.convene_consultation, self.command("manager", Convene(
            lead_department="MKT", departments=["MKT", "HOUSING"], question="住宅改商用能否登记？", deadline_days=3)))
        (cid,) = view.consultations
        c = self.client.get_workflow_handle_for(JointConsultationWorkflow.run, consultation_workflow_id(cid))
        for user in ("manager", "manager-housing"):
            await c.execute_update(JointConsultationWorkflow.answer, self.command(
                user, OpinionBody(decision=OpinionDecision.AGREE, text="同意")))
        await c.execute_update(JointConsultationWorkflow.conclude, self.command("manager", ConclusionBody(
            decision=ConclusionDecision.ACCEPT, reasons="各部门同意", follows=["MKT", "HOUSING"])))
        for _ in range(600):  # the case acts on the conclusion after the update answered
            if (await h.query(CaseWorkflow.state)).status == CaseStatus.IN_HANDLING:
                break
            await asyncio.sleep(0.05)
        else:
            raise RuntimeError(f"{h.id} did not act on the consultation's conclusion within 30 s")
        await self.close(h)
        return h.id


MIXES: dict[str, list[str]] = {
    "yes": ["yes"],
    "city": ["yes"] * 14 + ["supplement"] * 3 + ["veto_refused", "veto_approved", "consultation"],
}


async def drive_cases(client: Client, settings: Settings, n: int, mix: str, concurrency: int = 10
                      ) -> tuple[list[str], Counter[str]]:
    """(case numbers, cases per path) of ``n`` cases driven to their end along ``MIXES[mix]``, in turn."""
    sessions = make_sessionmaker(make_engine(settings.resolved_database_url()))
    async with sessions() as session:
        actors = {}
        for name in ("clerk", "manager", "manager-housing"):
            user = await queries.user_by_name(session, name)
            assert user is not None, name
            actors[name] = queries.actor_of(user)
    driver = Driver(client, sessions, settings.task_queue, actors)
    schedule = MIXES[mix]
    numbers: list[str] = []
    paths: Counter[str] = Counter()
    todo = iter(range(n))

    async def lane() -> None:
        for i in todo:
            path = schedule[(i * 7) % len(schedule)]  # 7 is prime to 20: the paths interleave
            numbers.append(case_no_of(await getattr(driver, path)()))
            paths[path] += 1

    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(lane())
    return numbers, paths


def cpu_seconds() -> float:
    """CPU time of this process so far, every thread (the replayer's core, the client's, the workflow tasks')."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def started() -> tuple[float, float]:
    """(wall, CPU) clocks at the start of a measured phase, after a full garbage collection: otherwise the phase
    that happens to trigger one pays for the garbage of the phases before it (about 0.7 s here)."""
    gc.collect()
    return time.perf_counter(), cpu_seconds()


def elapsed(start: tuple[float, float]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) since ``start``."""
    return time.perf_counter() - start[0], cpu_seconds() - start[1]


async def fetch_decoded(client: Client, case_nos: list[str]) -> list[WorkflowHistory]:
    codec = client.data_converter.payload_codec
    return [await decode_history(await client.get_workflow_handle(case_workflow_id(n)).fetch_history(), codec)
            for n in case_nos]


async def raw_replay(histories: list[WorkflowHistory], runner: WorkflowRunner | None = None
                     ) -> tuple[float, float]:
    """(wall, CPU) seconds one Replayer (the SDK's default sandbox, or ``runner``) takes over every history
    (failures raise)."""
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter,
                        workflow_runner=runner or SandboxedWorkflowRunner())

    async def feed() -> AsyncIterator[WorkflowHistory]:
        for h in histories:
            yield h

    start = started()
    async with replayer.workflow_replay_iterator(feed()) as results:
        async for result in results:
            if result.replay_failure is not None:
                raise RuntimeError(f"raw replay failed: {result.replay_failure}")
    return elapsed(start)


async def bulk_audit(settings: Settings, address: str, case_nos: list[str], profile: Path | None = None
                     ) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, cases ok) of ``audit_cases`` over ``case_nos``, with a client of its own
    (cProfile'd into ``profile`` when given)."""
    client = await Client.connect(address, data_converter=data_converter(settings))
    engine = make_engine(settings.resolved_database_url())
    profiler = cProfile.Profile() if profile else None
    try:
        start = started()
        if profiler:
            profiler.enable()
        summary = await audit_cases(client, make_sessionmaker(engine), case_nos, source="live")
        if profiler and profile:
            profiler.disable()
            profiler.dump_stats(profile)
        return *elapsed(start), sum(c.ok for c in summary.cases)
    finally:
        await engine.dispose()


def slice_worker(argv: list[str]) -> int:
    """``--slice URL ADDRESS KEYS FILE``: audit the case numbers in FILE, print (seconds, ok) as JSON."""
    url, address, keys, numbers = argv
    settings = Settings(database_url=url, temporal_address=address, codec_keys=keys)  # type: ignore[arg-type]
    seconds, _, ok = asyncio.run(bulk_audit(settings, address, json.loads(Path(numbers).read_text())))
    print(json.dumps({"seconds": seconds, "ok": ok}))
    return 0


def parallel(settings: Settings, keys: str, address: str, case_nos: list[str], processes: int, tmp: Path
             ) -> tuple[float, float, int]:
    """(wall seconds, seconds of the slowest process's audit, cases ok) of the audit over ``processes``
    processes: the wall time includes each process's start (imports, connections)."""
    procs = []
    start = time.perf_counter()
    for k in range(processes):
        part = tmp / f"slice-{k}.json"
        part.write_text(json.dumps(case_nos[k::processes]))
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "bench.audit_replay", "--slice", settings.resolved_database_url(), address,
             keys, str(part)], stdout=subprocess.PIPE, text=True))
    ok, slowest = 0, 0.0
    for p in procs:
        out, _ = p.communicate(timeout=3600)
        if p.returncode != 0:
            raise RuntimeError(f"a replay process failed with code {p.returncode}")
        answer = json.loads(out.strip().splitlines()[-1])
        ok, slowest = ok + answer["ok"], max(slowest, answer["seconds"])
    return time.perf_counter() - start, slowest, ok


async def bench(n: int, processes: int, year: int, tmp: Path, rounds: int = 2, mix: str = "yes",
                profile: Path | None = None) -> dict[str, Any]:
    pg = EmbeddedPostgres(tmp / "pg", free_port())
    pg.start(extra_args=("-c", "fsync=off", "-c", "synchronous_commit=off"))
    try:
        await upgrade(pg.url())
        keys = Keyring.generate("bench").dumps()
        settings = Settings(database_url=pg.url(), temporal_address="unused:0", task_queue=TASK_QUEUE,
                            codec_keys=keys)  # type: ignore[arg-type]
        engine = make_engine(pg.url())
        await seed_demo(make_sessionmaker(engine))
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(temporal_test_server_path()), data_converter=data_converter(keys))
        try:
            await register_search_attributes(env.client)  # the workflows upsert them
            activities = case_activities(make_sessionmaker(engine), settings)
            async with build_worker(env.client, settings, activities):
                start = time.perf_counter()
                case_nos, paths = await drive_cases(env.client, settings, n, mix)
                made = time.perf_counter() - start
                print(f"{n} cases driven to their end in {made:.1f} s: "
                      + ", ".join(f"{path} {count}" for path, count in sorted(paths.items())), flush=True)
            address = env.client.service_client.config.target_host
            start = time.perf_counter()
            histories = await fetch_decoded(env.client, case_nos)
            fetched = time.perf_counter() - start
            events = sum(len(h.events) for h in histories) / len(histories)
            sandboxed, _ = await raw_replay(histories)
            raws, bulks, raw_cpus, bulk_cpus = [], [], [], []
            for r in range(rounds):  # alternating, so that a busy spell of the machine hits both alike
                seconds, used = await raw_replay(histories, RUNNER)
                raws.append(seconds)
                raw_cpus.append(used)
                seconds, used, ok = await bulk_audit(settings, address, case_nos, profile if r == 0 else None)
                if ok != n:
                    raise RuntimeError(f"the bulk audit found {n - ok} cases not ok")
                bulks.append(seconds)
                bulk_cpus.append(used)
                print(f"round {r + 1}: raw {n / raws[-1]:.1f}/s ({1000 * raw_cpus[-1] / n:.1f} ms CPU a case), "
                      f"bulk {n / bulks[-1]:.1f}/s ({1000 * bulk_cpus[-1] / n:.1f} ms CPU a case)", flush=True)
            raw, bulk, raw_cpu, bulk_cpu = min(raws), min(bulks), median(raw_cpus), median(bulk_cpus)
            wall, steady, ok = parallel(settings, keys, address, case_nos, processes, tmp)
            if ok != n:
                raise RuntimeError(f"the parallel audit found {n - ok} cases not ok")
        finally:
            await env.shutdown()
            await engine.dispose()
    finally:
        pg.stop()
    startup = wall - steady
    year_hours = (startup + year / (n / steady)) / 3600
    figures = {"cases": n, "mix": mix, "paths": dict(paths), "history_events": round(events, 1),
               "fetch_decode_per_s": round(n / fetched, 1),
               "raw_replay_default_sandbox_per_s": round(n / sandboxed, 1), "rounds": rounds,
               "raw_replay_per_s": round(n / raw, 1), "bulk_audit_per_s": round(n / bulk, 1),
               "raw_rounds_per_s": [round(n / t, 1) for t in raws],
               "bulk_rounds_per_s": [round(n / t, 1) for t in bulks],
               "ratio_bulk_raw": round(raw / bulk, 2), "ratio_median": round(median(raws) / median(bulks), 2),
               "raw_cpu_ms_per_case": round(1000 * raw_cpu / n, 2),
               "bulk_cpu_ms_per_case": round(1000 * bulk_cpu / n, 2), "ratio_cpu": round(raw_cpu / bulk_cpu, 2),
               "processes": processes,
               "parallel_audit_per_s": round(n / steady, 1), "parallel_start_s": round(startup, 1),
               "year_cases": year, "year_hours_extrapolated": round(year_hours, 2)}
    print(f"histories of {events:.0f} events; fetch + decode {n / fetched:.1f}/s")
    print(f"raw Replayer, SDK default sandbox      {n / sandboxed:7.1f} cases/s")
    print(f"raw Replayer, the audit's runner       {n / raw:7.1f} cases/s   (best of {rounds}; median "
          f"{n / median(raws):.1f})")
    print(f"bulk audit (casehall audit replay)     {n / bulk:7.1f} cases/s   (best of {rounds}; median "
          f"{n / median(bulks):.1f})")
    print(f"ratio bulk/raw {raw / bulk:.2f} (best rounds; medians {median(raws) / median(bulks):.2f}; same runner; "
          "goal >= 0.8)")
    print(f"CPU of this process a case (median): raw {1000 * raw_cpu / n:.1f} ms, bulk {1000 * bulk_cpu / n:.1f} "
          f"ms: ratio {raw_cpu / bulk_cpu:.2f} (steadier on a busy machine; PostgreSQL's and Temporal's not counted)")
    print(f"parallel audit, {processes} processes         {n / steady:7.1f} cases/s once started "
          f"({startup:.1f} s to start); a year of {year:,} cases: {year_hours:.1f} h (extrapolated)")
    print(json.dumps(figures))
    return figures


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--slice"]:
        return slice_worker(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench.audit_replay", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200, help="closed cases to replay (default 200)")
    parser.add_argument("--processes", type=int, default=2, help="processes of the parallel replay (default 2)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating raw and bulk rounds, best kept (default 2)")
    parser.add_argument("--mix", choices=sorted(MIXES), default="yes",
                        help="yes: every case down the yes path (default); city: vetoes, supplements, consultations")
    parser.add_argument("--year", type=int, default=300_000, help="closed cases in a year (default 300000)")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the bulk audit to this file")
    args = parser.parse_args(argv)
    if min(args.cases, args.processes, args.rounds, args.year) < 1:
        parser.error("--cases, --processes, --rounds and --year must be at least 1")
    with tempfile.TemporaryDirectory(prefix="casehall-audit-bench-") as tmp:
        asyncio.run(bench(args.cases, args.processes, args.year, Path(tmp), args.rounds, args.mix, args.profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
