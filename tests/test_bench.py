"""The benchmark's command line loads (the benchmark itself needs the running stack: `make run`, `make bench`)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_help_exits_0() -> None:
    done = subprocess.run([sys.executable, "-m", "bench.case_throughput", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "--cases" in done.stdout and "--concurrency" in done.stdout
