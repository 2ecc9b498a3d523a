package goldenpath.s3_private_test

import data.goldenpath.s3_private

all_blocked := {
	"block_public_acls": true,
	"ignore_public_acls": true,
	"block_public_policy": true,
	"restrict_public_buckets": true,
}

private_exposure := {"public": false, "acl": "private", "policy_principals": [], "access_block": all_blocked}

bucket(exposure) := {
	"kind": "storage.bucket", "provider": "aws", "provider_type": "aws_s3_bucket",
	"address": "aws_s3_bucket.logs", "change": "create", "exposure": exposure,
}

plan_of(resources) := {"plan": {"resources": [{"normalized": r} | some r in resources]}}

plan_with(exposure) := plan_of([bucket(exposure)])

test_private_bucket_allowed if {
	count(s3_private.deny) == 0 with input as plan_with(private_exposure)
}

test_all_four_flags_on_allow_an_unknown_policy if {
	count(s3_private.deny) == 0 with input as plan_with(object.union(private_exposure, {"policy_principals": "unknown"}))
}

test_public_acl_denied if {
	s3_private.deny == {"bucket 'aws_s3_bucket.logs' must not have a public ACL: acl is 'public-read'"} with input as plan_with(object.union(private_exposure, {"acl": "public-read"}))
}

test_authenticated_read_denied if {
	count(s3_private.deny) == 1 with input as plan_with(object.union(private_exposure, {"acl": "authenticated-read"}))
}

test_everyone_principal_denied if {
	s3_private.deny == {"bucket 'aws_s3_bucket.logs' must not grant access to everyone: its bucket policy allows Principal \"*\""} with input as plan_with(object.union(private_exposure, {"policy_principals": ["*"]}))
	count(s3_private.deny) == 0 with input as plan_with(object.union(private_exposure, {"policy_principals": ["arn:aws:iam::123456789012:root"]}))
}

test_each_false_flag_denied if {
	exposure := object.union(private_exposure, {"access_block": {
		"block_public_acls": false,
		"ignore_public_acls": true,
		"block_public_policy": false,
		"restrict_public_buckets": true,
	}})
	s3_private.deny == {
		"bucket 'aws_s3_bucket.logs' must block public access: block_public_acls is false",
		"bucket 'aws_s3_bucket.logs' must block public access: block_public_policy is false",
	} with input as plan_with(exposure)
}

test_missing_block_denied_for_every_flag if {
	count(s3_private.deny) == 4 with input as plan_with(object.union(private_exposure, {"access_block": null}))
}

test_unknown_values_denied if {
	s3_private.deny == {"bucket 'aws_s3_bucket.logs' must block public access: restrict_public_buckets is only known after apply"} with input as plan_with(object.union(private_exposure, {"access_block": object.union(all_blocked, {"restrict_public_buckets": "unknown"})}))
	count(s3_private.deny) == 1 with input as plan_with(object.union(private_exposure, {"acl": "unknown"}))
	count(s3_private.deny) == 5 with input as plan_with(object.union(private_exposure, {"access_block": null, "policy_principals": "unknown"}))
}

setting(type, exposure) := {
	"kind": "attachment", "provider": "aws", "provider_type": type, "address": sprintf("%s.logs", [type]),
	"change": "create", "attached_to": null, "exposure": exposure,
}

test_settings_of_other_buckets_judged if {
	s3_private.deny == {"bucket 'aws_s3_bucket_acl.logs' must not have a public ACL: acl is 'public-read'"} with input as plan_of([setting("aws_s3_bucket_acl", {"acl": "public-read"})])
	count(s3_private.deny) == 1 with input as plan_of([setting("aws_s3_bucket_public_access_block", {"access_block": object.union(all_blocked, {"block_public_acls": false})})])
	count(s3_private.deny) == 1 with input as plan_of([setting("aws_s3_bucket_policy", {"policy_principals": ["*"]})])
	count(s3_private.deny) == 0 with input as plan_of([setting("aws_s3_bucket_acl", {"acl": "private"})])
}

test_deletes_ignored if {
	count(s3_private.deny) == 0 with input as plan_of([object.union(bucket(object.union(private_exposure, {"acl": "public-read"})), {"change": "delete"}) ])
}

gcs(public) := {"kind": "storage.bucket", "provider": "google", "provider_type": "google_storage_bucket", "address": "google_storage_bucket.b", "change": "create", "exposure": {"public": public}}

test_other_clouds_public_buckets_denied if {
	count(s3_private.deny) == 1 with input as plan_of([gcs(true)])
	count(s3_private.deny) == 1 with input as plan_of([gcs("unknown")])
	count(s3_private.deny) == 0 with input as plan_of([gcs(false)])
}

test_other_kinds_ignored if {
	count(s3_private.deny) == 0 with input as plan_of([{"kind": "database.instance", "provider": "postgres", "address": "x", "change": "create", "exposure": {}}])
}
