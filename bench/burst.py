"""A burst of registrations: ``python -m bench.burst [--cases 5000] [--concurrency 12] [--api URL]``.

``--concurrency`` clerks register ``--cases`` window cases (``POST /cases``, item ``MKT-001``, applicant ``bench``)
as fast as the API answers, against ``make run``; prints registrations/s, p50/p99 per call, and one JSON line. The
cases stay registered (terminated at the end, like ``bench.twin``'s)."""

import argparse
import asyncio
import json

import httpx
from temporalio.client import Client

from bench.twin import CASE_BODY, STEP_TIMEOUT, Round, lanes, pct, terminate, timed
from casehall.core.settings import Settings
from casehall.stack.seed import DEMO_PASSWORD


async def burst(api: str, settings: Settings, cases: int, concurrency: int) -> Round:
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
    numbers: list[str] = []
    async with httpx.AsyncClient(base_url=api, timeout=STEP_TIMEOUT, limits=limits) as http:
        r = await http.post("/auth/login", json={"username": "clerk", "password": DEMO_PASSWORD})
        if r.status_code != 200:
            raise RuntimeError(f"log-in as the demo clerk failed: {r.status_code} {r.text[:200]}")
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}

        async def one(i: int, result: Round) -> None:
            answer = await timed(result, "register", http.post(
                "/cases", json={**CASE_BODY, "description": f"burst {i}"}, headers=headers))
            if answer.status_code != 201:
                raise RuntimeError(f"POST /cases: {answer.status_code} {answer.text[:300]}")
            numbers.append(answer.json()["case_no"])

        try:
            return await lanes(cases, concurrency, one, "burst")
        finally:
            client = await Client.connect(settings.resolved_temporal_address(), namespace=settings.temporal_namespace)
            await terminate(client, [f"case-{no}" for no in numbers])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.burst", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=5000, help="registrations (default 5000)")
    parser.add_argument("--concurrency", type=int, default=12, help="clients at a time (default 12)")
    parser.add_argument("--api", help="the casehall API (default http://CASEHALL_API_HOST:CASEHALL_API_PORT)")
    args = parser.parse_args(argv)
    if min(args.cases, args.concurrency) < 1:
        parser.error("--cases and --concurrency must be at least 1")
    settings = Settings()
    api = args.api or f"http://{settings.api_host}:{settings.api_port}"
    done = asyncio.run(burst(api, settings, args.cases, args.concurrency))
    calls = done.steps["register"]
    figures = {"cases": done.cases, "concurrency": args.concurrency, "seconds": round(done.seconds, 1),
               "registrations_per_s": round(done.rate, 2), "p50_ms": round(pct(calls, 50), 1),
               "p99_ms": round(pct(calls, 99), 1)}
    print(f"{done.cases} registrations at {args.concurrency} clients in {done.seconds:.1f} s: {done.rate:.1f}/s, "
          f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms per call")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
