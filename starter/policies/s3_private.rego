# Every S3 bucket a request creates blocks all public access and has a private ACL.
package goldenpath.s3_private

block_flags := ["block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets"]

public_acls := {"public-read", "public-read-write", "authenticated-read"}

buckets contains bucket if {
	some bucket in input.plan.resources
	bucket.type == "aws:s3:bucket"
}

flag_value(bucket, flag) := object.get(bucket, ["config", "public_access_block", flag], "not set")

deny contains msg if {
	some bucket in buckets
	some flag in block_flags
	value := flag_value(bucket, flag)
	value != true
	msg := sprintf("bucket '%s' must block public access: %s is %v", [bucket.name, flag, value])
}

deny contains msg if {
	some bucket in buckets
	acl := object.get(bucket, ["config", "acl"], "private")
	acl in public_acls
	msg := sprintf("bucket '%s' must not have a public ACL: acl is '%s'", [bucket.name, acl])
}
