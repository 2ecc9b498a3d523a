package goldenpath.terraform.s3_public_test

import data.goldenpath.terraform.s3_public

acl_change(actions, acl) := {"resource_changes": [{
	"address": "aws_s3_bucket_acl.logs",
	"type": "aws_s3_bucket_acl",
	"change": {"actions": actions, "before": null, "after": {"acl": acl, "bucket": "logs"}},
}]}

block_change(actions, flag_value) := {"resource_changes": [{
	"address": "aws_s3_bucket_public_access_block.logs",
	"type": "aws_s3_bucket_public_access_block",
	"change": {"actions": actions, "before": null, "after": {
		"block_public_acls": flag_value,
		"block_public_policy": true,
		"ignore_public_acls": true,
		"restrict_public_buckets": true,
	}},
}]}

test_create_public_acl_denied if {
	s3_public.deny == {"aws_s3_bucket_acl.logs must not make the bucket public: acl is 'public-read'"} with input as acl_change(["create"], "public-read")
}

test_update_public_acl_denied if {
	count(s3_public.deny) == 1 with input as acl_change(["update"], "public-read-write")
}

test_replace_public_acl_denied if {
	count(s3_public.deny) == 1 with input as acl_change(["delete", "create"], "public-read")
	count(s3_public.deny) == 1 with input as acl_change(["create", "delete"], "public-read")
}

test_delete_noop_read_not_denied if {
	every actions in [["delete"], ["no-op"], ["read"]] {
		count(s3_public.deny) == 0 with input as acl_change(actions, "public-read")
	}
}

test_private_acl_allowed if {
	count(s3_public.deny) == 0 with input as acl_change(["create"], "private")
}

test_public_access_block_flag_false_denied if {
	s3_public.deny == {"aws_s3_bucket_public_access_block.logs must block public access: block_public_acls is false"} with input as block_change(["create"], false)
	count(s3_public.deny) == 1 with input as block_change(["update"], false)
	count(s3_public.deny) == 0 with input as block_change(["delete"], false)
	count(s3_public.deny) == 0 with input as block_change(["create"], true)
}

test_bucket_acl_attribute_denied if {
	count(s3_public.deny) == 1 with input as {"resource_changes": [{
		"address": "aws_s3_bucket.site",
		"type": "aws_s3_bucket",
		"change": {"actions": ["create"], "after": {"bucket": "site", "acl": "public-read"}},
	}]}
	count(s3_public.deny) == 0 with input as {"resource_changes": [{
		"address": "aws_s3_bucket.site",
		"type": "aws_s3_bucket",
		"change": {"actions": ["create"], "after": {"bucket": "site"}},
	}]}
}
