"""Every workflow casehall runs: the worker registers them, the audit replays histories against them."""

from casehall.workflows.assessment import MonthlyReportWorkflow
from casehall.workflows.case import CaseWorkflow
from casehall.workflows.hotline.order import OrderWorkflow
from casehall.workflows.joint_consultation import JointConsultationWorkflow

WORKFLOWS: list[type] = [CaseWorkflow, JointConsultationWorkflow, OrderWorkflow, MonthlyReportWorkflow]
