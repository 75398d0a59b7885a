"""Every workflow casehall runs: the worker registers them, the audit replays histories against them."""

from temporalio.worker import UnsandboxedWorkflowRunner, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from casehall.workflows.assessment import MonthlyReportWorkflow
from casehall.workflows.case import CaseWorkflow
from casehall.workflows.hotline.order import OrderWorkflow
from casehall.workflows.joint_consultation import JointConsultationWorkflow

WORKFLOWS: list[type] = [CaseWorkflow, JointConsultationWorkflow, OrderWorkflow, MonthlyReportWorkflow]

# The worker's and the audit's: casehall's modules are imported once per process, not once per workflow run or
# replayed history (re-importing case.py and its mixins cost a quarter of the worker's CPU under load): they keep no
# mutable state at module level, and the SDK's checks on calls (no clock, no random, no I/O) still apply. The unit
# tests (tests/unit) and tests/test_replay.py run the workflows in the SDK's default sandbox, which re-imports them.
RUNNER = SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules("casehall"))


def runner(sandboxed: bool = True) -> WorkflowRunner:
    """The worker's runner: ``RUNNER``, or none of the sandbox's checks (an operator's choice for speed: activations
    cost less without its per-call import and builtins guards; the suite and the audit keep them)."""
    return RUNNER if sandboxed else UnsandboxedWorkflowRunner()
