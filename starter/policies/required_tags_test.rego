package goldenpath.required_tags_test

import data.goldenpath.required_tags

plan_with(type, tags) := {"plan": {"resources": [{"type": type, "name": "logs", "tags": tags}]}}

test_tagged_resource_allowed if {
	count(required_tags.deny) == 0 with input as plan_with("aws:s3:bucket", {"owner": "payments", "cost-center": "cc-1"})
}

test_missing_owner_denied if {
	required_tags.deny == {"resource 'logs' (aws:s3:bucket) must have a non-empty 'owner' tag"} with input as plan_with("aws:s3:bucket", {"cost-center": "cc-1"})
}

test_empty_tag_denied if {
	count(required_tags.deny) == 1 with input as plan_with("aws:ec2:instance", {"owner": " ", "cost-center": "cc-1"})
}

test_no_tags_denied_for_both if {
	count(required_tags.deny) == 2 with input as plan_with("aws:s3:bucket", null)
}

test_non_aws_resources_ignored if {
	count(required_tags.deny) == 0 with input as plan_with("postgres:database", {})
}
