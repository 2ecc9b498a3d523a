package goldenpath.s3_private_test

import data.goldenpath.s3_private

private_config := {
	"public_access_block": {
		"block_public_acls": true,
		"ignore_public_acls": true,
		"block_public_policy": true,
		"restrict_public_buckets": true,
	},
	"acl": "private",
	"versioning": false,
}

plan_with(config) := {"plan": {"resources": [{"type": "aws:s3:bucket", "name": "logs", "config": config}]}}

test_private_bucket_allowed if {
	count(s3_private.deny) == 0 with input as plan_with(private_config)
}

test_public_acl_denied if {
	s3_private.deny == {"bucket 'logs' must not have a public ACL: acl is 'public-read'"} with input as plan_with(object.union(private_config, {"acl": "public-read"}))
}

test_authenticated_read_denied if {
	count(s3_private.deny) == 1 with input as plan_with(object.union(private_config, {"acl": "authenticated-read"}))
}

test_each_false_flag_denied if {
	config := object.union(private_config, {"public_access_block": {
		"block_public_acls": false,
		"ignore_public_acls": true,
		"block_public_policy": false,
		"restrict_public_buckets": true,
	}})
	s3_private.deny == {
		"bucket 'logs' must block public access: block_public_acls is false",
		"bucket 'logs' must block public access: block_public_policy is false",
	} with input as plan_with(config)
}

test_missing_block_denied_for_every_flag if {
	count(s3_private.deny) == 4 with input as plan_with({"acl": "private"})
}

test_other_types_ignored if {
	count(s3_private.deny) == 0 with input as {"plan": {"resources": [{"type": "postgres:database", "name": "orders", "config": {}}]}}
}
