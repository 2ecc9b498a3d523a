"""Guardrails: Rego policies evaluated in-process (regorus) on resolved and Terraform plans."""

from __future__ import annotations

from goldenpath.policy.engine import REQUEST_NAMESPACE, TERRAFORM_NAMESPACE, PolicySet
from goldenpath.policy.rego_tests import RegoTestReport, RegoTestResult, run_rego_tests
from goldenpath.policy.terraform import check_plan, plan_document
from goldenpath.policy.verdict import Verdict, Violation

__all__ = [
    "REQUEST_NAMESPACE",
    "TERRAFORM_NAMESPACE",
    "PolicySet",
    "RegoTestReport",
    "RegoTestResult",
    "Verdict",
    "Violation",
    "check_plan",
    "plan_document",
    "run_rego_tests",
]
