package goldenpath.required_tags_test

import data.goldenpath.required_tags

resource(provider, type, kind, tags) := {"plan": {"resources": [{"normalized": {
	"kind": kind, "provider": provider, "provider_type": type,
	"address": sprintf("%s.logs", [type]), "change": "create", "tags": tags,
}}]}}

bucket(tags) := resource("aws", "aws:s3:bucket", "storage.bucket", tags)

test_tagged_resource_allowed if {
	count(required_tags.deny) == 0 with input as bucket({"owner": "payments", "cost-center": "cc-1"})
}

test_missing_owner_denied if {
	required_tags.deny == {"resource 'aws:s3:bucket.logs' (aws:s3:bucket) must have a non-empty 'owner' tag"} with input as bucket({"cost-center": "cc-1"})
}

test_empty_tag_denied if {
	count(required_tags.deny) == 1 with input as resource("aws", "aws_instance", "compute.instance", {"owner": " ", "cost-center": "cc-1"})
}

test_no_tags_denied_for_both if {
	count(required_tags.deny) == 2 with input as bucket({})
}

test_terraform_and_other_clouds_judged if {
	required_tags.deny == {"resource 'aws_instance.logs' (aws_instance) must have a non-empty 'cost-center' tag"} with input as resource("aws", "aws_instance", "compute.instance", {"owner": "payments"})
	count(required_tags.deny) == 2 with input as resource("google", "google_storage_bucket", "storage.bucket", {})
	count(required_tags.deny) == 2 with input as resource("azurerm", "azurerm_linux_virtual_machine", "compute.instance", {})
}

test_unknown_tags_denied if {
	required_tags.deny == {"resource 'aws_instance.logs' (aws_instance) has tags only known after apply; it must have non-empty owner and cost-center tags"} with input as resource("aws", "aws_instance", "compute.instance", "unknown")
}

test_untaggable_and_non_cloud_resources_ignored if {
	count(required_tags.deny) == 0 with input as resource("postgres", "postgres:database", "database.instance", {})
	count(required_tags.deny) == 0 with input as resource("aws", "aws_s3_bucket_policy", "attachment", {})
	count(required_tags.deny) == 0 with input as resource("aws", "aws_iam_role", "unknown", {})
}
