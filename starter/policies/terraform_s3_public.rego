# Terraform plans (terraform show -json) that create or update S3 buckets keep them private.
package goldenpath.terraform.s3_public

public_acls := {"public-read", "public-read-write", "authenticated-read"}

block_flags := ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]

# A replace is ["delete", "create"] or ["create", "delete"], so it counts as a create.
changing contains change if {
	some change in input.resource_changes
	some action in change.change.actions
	action in {"create", "update"}
}

deny contains msg if {
	some change in changing
	change.type == "aws_s3_bucket_acl"
	acl := object.get(change.change, ["after", "acl"], null)
	acl in public_acls
	msg := sprintf("%s must not make the bucket public: acl is '%s'", [change.address, acl])
}

deny contains msg if {
	some change in changing
	change.type == "aws_s3_bucket"
	acl := object.get(change.change, ["after", "acl"], null)
	acl in public_acls
	msg := sprintf("%s must not make the bucket public: acl is '%s'", [change.address, acl])
}

deny contains msg if {
	some change in changing
	change.type == "aws_s3_bucket_public_access_block"
	some flag in block_flags
	object.get(change.change, ["after", flag], null) == false
	msg := sprintf("%s must block public access: %s is false", [change.address, flag])
}
