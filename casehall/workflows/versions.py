"""Which behaviour a workflow run has, decided once, first thing in ``run``, from the patches its history holds.

A run started by this code records one marker, ``CURRENT``, standing for every change guarded by a patch so far
(each patch is a history event and a ``TemporalChangeVersion`` upsert: four per case before). Runs recorded before
hold the patches of their time one by one, and keep asking for each where the code of their time asked:

- ``clock.STABLE_TIMES``: event times are the trigger's moment;
- ``observability.PATCH_AT_START`` (and ``PATCH`` before it): search attributes kept current;
- ``case_callback.RECTIFICATION_ESCALATES_ONCE``; ``joint_consultation.DEADLINE_WHEN_CONVENED``.

A later change gets its own patch, asked as ``workflow.patched(NEW)`` where the change happens (not through
``holds``: runs of the current code started before the change lack it), e.g.
``hotline.petition.REVIEW_WINDOW_AT_CLOSING``; a future consolidation may fold such patches into a new ``CURRENT``
name (never reuse a name)."""

from typing import Any

from temporalio import workflow

CURRENT = "casehall-2026-11"


def adopt() -> bool:
    """Call first thing in ``run``, before any other patch; keep the answer as ``current``."""
    return workflow.patched(CURRENT)


def holds(owner: Any, patch: str) -> bool:
    """Whether ``patch``'s change holds for this run: always for a run of the current code, else as recorded."""
    return bool(getattr(owner, "current", False)) or workflow.patched(patch)
