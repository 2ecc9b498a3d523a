"""Guardrails: Rego policies evaluated in-process (regorus) on resolved and Terraform plans."""

from __future__ import annotations

from goldenpath.policy.engine import (
    ERROR_RULE,
    REQUEST_NAMESPACE,
    TERRAFORM_NAMESPACE,
    PolicyFile,
    PolicySet,
)
from goldenpath.policy.rego_tests import RegoTestReport, RegoTestResult, run_rego_tests
from goldenpath.policy.terraform import check_plan, plan_document
from goldenpath.policy.verdict import Verdict, Violation

__all__ = [
    "ERROR_RULE",
    "REQUEST_NAMESPACE",
    "TERRAFORM_NAMESPACE",
    "PolicyFile",
    "PolicySet",
    "RegoTestReport",
    "RegoTestResult",
    "Verdict",
    "Violation",
    "check_plan",
    "plan_document",
    "run_rego_tests",
]
