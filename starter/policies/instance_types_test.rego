package goldenpath.instance_types_test

import data.goldenpath.instance_types

plan_with(instance_type) := {"plan": {"resources": [{
	"type": "aws:ec2:instance",
	"name": "web",
	"config": {"instance_type": instance_type, "public_ip": false},
}]}}

test_small_types_allowed if {
	every t in ["t3.nano", "t3.micro", "t3.small", "t3.medium"] {
		count(instance_types.deny) == 0 with input as plan_with(t)
	}
}

test_large_type_denied if {
	some msg in instance_types.deny with input as plan_with("m5.large")
	contains(msg, "instance 'web' uses instance type 'm5.large'")
}

test_t3_large_denied if {
	count(instance_types.deny) == 1 with input as plan_with("t3.large")
}

test_missing_type_denied if {
	count(instance_types.deny) == 1 with input as {"plan": {"resources": [{"type": "aws:ec2:instance", "name": "web", "config": {}}]}}
}

test_other_types_ignored if {
	count(instance_types.deny) == 0 with input as {"plan": {"resources": [{"type": "aws:s3:bucket", "name": "web", "config": {"instance_type": "m5.large"}}]}}
}
