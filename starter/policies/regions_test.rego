package goldenpath.regions_test

import data.goldenpath.regions

plan_with(region) := {"plan": {"resources": [{"type": "aws:s3:bucket", "name": "logs", "region": region}]}}

test_default_regions_allowed if {
	every region in ["eu-west-1", "eu-central-1", "us-east-1"] {
		count(regions.deny) == 0 with input as plan_with(region)
	}
}

test_no_region_allowed if {
	count(regions.deny) == 0 with input as plan_with(null)
	count(regions.deny) == 0 with input as {"plan": {"resources": [{"type": "postgres:database", "name": "orders"}]}}
}

test_other_region_denied if {
	regions.deny == {"resource 'logs' is in region 'ap-south-1', which is not allowed (allowed: eu-central-1, eu-west-1, us-east-1)"} with input as plan_with("ap-south-1")
}

test_configured_regions_replace_default if {
	count(regions.deny) == 0 with input as plan_with("ap-south-1")
		with data.goldenpath.config.allowed_regions as ["ap-south-1"]
	count(regions.deny) == 1 with input as plan_with("eu-west-1")
		with data.goldenpath.config.allowed_regions as ["ap-south-1"]
}
