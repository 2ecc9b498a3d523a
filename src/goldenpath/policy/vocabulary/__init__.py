"""The resource vocabulary: one normalized description for every resource a plan makes,
whether a native action planned it or a Terraform plan (``terraform show -json``) holds it.

One module per provider (aws, google, azure) and one for the native actions; ``plan`` reads
Terraform's document. The fields and kinds are documented in docs/policies.md.
"""

from __future__ import annotations

from goldenpath.policy.vocabulary.description import KINDS, UNKNOWN, Description
from goldenpath.policy.vocabulary.native import describe_native, described
from goldenpath.policy.vocabulary.terraform import describe_plan

__all__ = ["KINDS", "UNKNOWN", "Description", "describe_native", "describe_plan", "described"]
