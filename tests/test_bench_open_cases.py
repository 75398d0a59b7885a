"""``bench.open_cases`` at a tiny size: its own stack opens cases and urgent orders that stay open, is sampled, and
takes actions again after the worker and the whole stack restart."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.open_cases import MARKER, growth, prepare_dir

ROOT = Path(__file__).resolve().parent.parent


def test_a_directory_it_did_not_make_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("someone's data")
    with pytest.raises(RuntimeError, match="not made by this benchmark"):
        prepare_dir(tmp_path)
    assert (tmp_path / "keep.txt").exists()


def test_a_directory_of_a_previous_run_is_wiped(tmp_path: Path) -> None:
    data = tmp_path / "oc"
    prepare_dir(data)
    (data / "temporal.db").write_text("old")
    prepare_dir(data)
    assert sorted(p.name for p in data.iterdir()) == [MARKER]


def test_growth_is_the_slope_per_thousand_over_the_second_half_of_the_fill() -> None:
    keys = ("temporal_mb", "postgres_mb", "postgres_pss_mb", "worker_mb", "api_mb", "sqlite_mb", "pgdata_mb")
    early = [{"phase": "fill", "opened": n, **{k: 10 * n for k in keys}} for n in (0, 100, 500)]  # caches filling
    late = [{"phase": "fill", "opened": n, **{k: 100 + 0.03 * n for k in keys}} for n in (1000, 1500, 2000)]
    after = {"phase": "open", "opened": 2000, **{k: 9999 for k in keys}}  # not a fill sample: ignored
    samples: list[dict[str, Any]] = [*early, *late, after]
    grown = growth(samples, 100_000)
    assert grown["sqlite_mb"] == (30.0, 3100)  # the second half of the fill only
    assert growth(samples[:3], 100_000) == {}  # one sample in the second half: no slope


def test_open_cases_benchmark_runs(tmp_path: Path) -> None:
    data = tmp_path / "oc"
    done = subprocess.run(
        [sys.executable, "-m", "bench.open_cases", "--cases", "8", "--order-every", "4", "--every", "5",
         "--settle", "0.1", "--probes", "2", "--concurrency", "4", "--data-dir", str(data)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    figures = json.loads((data / "samples.json").read_text())
    assert figures["fill"]["cases"] == 6 and figures["fill"]["orders"] == 2 and figures["fill"]["errors"] == 0
    # two supplements after each restart: those cases left awaiting_supplement, the others still wait
    assert figures["timers"]["cases_open"] == 2 and figures["timers"]["orders_open"] == 2
    assert figures["worker_restart"]["actions"] == 2 and figures["stack_restart"]["actions"] == 2
    assert 0 < figures["worker_restart"]["first_action_s"] < 300
    rest = figures["at_rest"]
    assert rest["opened"] == 8 and rest["cache"] >= 8 and rest["temporal_mb"] > 0 and rest["sqlite_mb"] > 0
    assert figures["history_case"][0] > 5 and figures["history_order"][0] > 5
    assert "stack restart" in done.stdout and "sticky cache" in done.stdout
