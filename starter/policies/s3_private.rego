# Buckets are private, whoever makes them. An S3 bucket (native, or Terraform's aws_s3_bucket
# with its _acl, _policy and _public_access_block resources) blocks all public access, has a
# private ACL, and grants nothing to everyone in its policy; what is only known after apply
# is denied. Other clouds' buckets are denied when the vocabulary finds them public or unsure.
package goldenpath.s3_private

block_flags := ["block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets"]

public_acls := {"public-read", "public-read-write", "authenticated-read"}

everyone := {"*", "allUsers", "allAuthenticatedUsers"}

live contains r if {
	some planned in input.plan.resources
	r := planned.normalized
	r.change != "delete"
}

s3_buckets contains r if {
	some r in live
	r.kind == "storage.bucket"
	r.provider == "aws"
}

# Settings of a bucket this plan does not make: judged for what they set.
loose_settings contains r if {
	some r in live
	r.kind == "attachment"
	r.provider == "aws"
	r.attached_to == null
}

flag_text(value) := "not set" if value == null

else := "only known after apply" if value == "unknown"

else := sprintf("%v", [value])

blocks_all(exposure) if {
	every flag in block_flags {
		exposure.access_block[flag] == true
	}
}

deny contains msg if {
	some bucket in s3_buckets
	some flag in block_flags
	value := object.get(bucket.exposure, ["access_block", flag], null)
	value != true
	msg := sprintf("bucket '%s' must block public access: %s is %s", [bucket.address, flag, flag_text(value)])
}

deny contains msg if {
	some r in s3_buckets | loose_settings
	acl := object.get(r.exposure, "acl", "private")
	acl in public_acls
	msg := sprintf("bucket '%s' must not have a public ACL: acl is '%s'", [r.address, acl])
}

deny contains msg if {
	some r in s3_buckets | loose_settings
	object.get(r.exposure, "acl", "private") == "unknown"
	msg := sprintf("bucket '%s' has an ACL only known after apply; it must be private", [r.address])
}

deny contains msg if {
	some r in s3_buckets | loose_settings
	principals := object.get(r.exposure, "policy_principals", [])
	is_array(principals)
	some principal in principals
	principal in everyone
	msg := sprintf("bucket '%s' must not grant access to everyone: its bucket policy allows Principal \"%s\"", [r.address, principal])
}

# An unknown policy is harmless only when the access block makes S3 refuse public policies.
deny contains msg if {
	some bucket in s3_buckets
	bucket.exposure.policy_principals == "unknown"
	not blocks_all(bucket.exposure)
	msg := sprintf("bucket '%s' has a bucket policy only known after apply and does not block public access", [bucket.address])
}

deny contains msg if {
	some setting in loose_settings
	some flag in block_flags
	value := object.get(setting.exposure, ["access_block", flag], true)
	value != true
	msg := sprintf("bucket '%s' must block public access: %s is %s", [setting.address, flag, flag_text(value)])
}

deny contains msg if {
	some setting in loose_settings
	setting.exposure.policy_principals == "unknown"
	msg := sprintf("bucket '%s' sets a bucket policy only known after apply", [setting.address])
}

deny contains msg if {
	some bucket in live
	bucket.kind == "storage.bucket"
	bucket.provider != "aws"
	bucket.exposure.public != false
	msg := sprintf("bucket '%s' (%s) must not be public: public access is %v", [bucket.address, bucket.provider_type, bucket.exposure.public])
}
