"""How a `casehall` command stops on SIGTERM (a service manager) or Ctrl-C: the first signal cancels the command's
coroutine, which finishes its clean-up and exits 0; the same signal again ends the process at once; a stop limit
ends it even when the clean-up hangs. Each case runs `casehall.cli.main._run` in a child process."""

import signal
import subprocess
import sys
import time

import pytest

# argv: seconds the clean-up takes, stop limit (0: none)
SCRIPT = """
import asyncio, sys
from casehall.cli.main import _run

async def main() -> None:
    print("ready", flush=True)
    try:
        await asyncio.sleep(3600)
    finally:
        print("stopping", flush=True)
        await asyncio.sleep(float(sys.argv[1]))
        print("stopped", flush=True)

_run(main(), stop_limit=int(sys.argv[2]) or None)
print("returned", flush=True)
"""


def started(cleanup: float, limit: int = 0) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(cleanup), str(limit)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n", proc.stderr.read() if proc.stderr else ""
    return proc


def finished(proc: subprocess.Popen[str], within: float) -> tuple[int, str, float]:
    begun = time.monotonic()
    out, err = proc.communicate(timeout=within)
    assert "Traceback" not in err, err
    return proc.returncode, "ready\n" + out, time.monotonic() - begun


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_first_signal_stops_the_command_cleanly_with_exit_code_0(sig: signal.Signals) -> None:
    proc = started(cleanup=0.5)
    proc.send_signal(sig)
    code, out, _ = finished(proc, 30)
    assert (code, out) == (0, "ready\nstopping\nstopped\nreturned\n")


def test_the_same_signal_again_exits_at_once() -> None:
    proc = started(cleanup=120)
    proc.send_signal(signal.SIGTERM)
    assert proc.stdout is not None and proc.stdout.readline() == "stopping\n"
    proc.send_signal(signal.SIGTERM)
    code, out, took = finished(proc, 30)
    assert code == 128 + signal.SIGTERM and "stopped" not in out
    assert took < 10


def test_another_signal_is_the_same_stop() -> None:
    """`casehall up`'s worker gets the terminal's Ctrl-C, then its parent's SIGTERM: one stop, not a forced exit."""
    proc = started(cleanup=2)
    proc.send_signal(signal.SIGINT)
    assert proc.stdout is not None and proc.stdout.readline() == "stopping\n"
    proc.send_signal(signal.SIGTERM)
    code, out, _ = finished(proc, 30)
    assert (code, out) == (0, "ready\nstopped\nreturned\n")  # "stopping" read above


def test_a_stop_limit_ends_a_clean_up_that_hangs() -> None:
    proc = started(cleanup=120, limit=2)
    proc.send_signal(signal.SIGTERM)
    code, out, took = finished(proc, 30)
    assert code == -signal.SIGALRM and "stopped" not in out
    assert took < 10
