package goldenpath.unknown_resources_test

import data.goldenpath.unknown_resources

plan_of(kind, change) := {"plan": {"resources": [{"normalized": {
	"kind": kind, "provider": "aws", "provider_type": "aws_iam_role",
	"address": "aws_iam_role.ci", "change": change,
}}]}}

test_unknown_kind_warns if {
	unknown_resources.warn == {"resource 'aws_iam_role.ci' (aws_iam_role) is not in the platform's resource vocabulary: no guardrail judges its size, exposure or cost"} with input as plan_of("unknown", "create")
}

test_unknown_kind_is_not_denied if {
	not unknown_resources.deny with input as plan_of("unknown", "create")
}

test_known_kinds_and_deletes_are_quiet if {
	count(unknown_resources.warn) == 0 with input as plan_of("compute.instance", "create")
	count(unknown_resources.warn) == 0 with input as plan_of("unknown", "delete")
}
