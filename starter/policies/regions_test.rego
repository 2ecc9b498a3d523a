package goldenpath.regions_test

import data.goldenpath.regions

located(kind, region) := {"plan": {"resources": [{"normalized": {
	"kind": kind, "provider": "aws", "provider_type": "aws:s3:bucket",
	"address": "aws:s3:bucket.logs", "change": "create", "region": region,
}}]}}

plan_with(region) := located("storage.bucket", region)

test_default_regions_allowed if {
	every region in regions.default_regions {
		count(regions.deny) == 0 with input as plan_with(region)
	}
}

test_no_region_allowed if {
	count(regions.deny) == 0 with input as plan_with(null)
}

test_other_region_denied if {
	regions.deny == {"resource 'aws:s3:bucket.logs' is in region 'ap-south-1', which is not allowed (allowed: eastus, eu-central-1, eu-west-1, europe-west1, europe-west3, germanywestcentral, us-east-1, us-east1, westeurope)"} with input as plan_with("ap-south-1")
}

test_unknown_region_denied if {
	count(regions.deny) == 1 with input as plan_with("unknown")
}

test_attachments_and_deletes_ignored if {
	count(regions.deny) == 0 with input as located("attachment", "ap-south-1")
	count(regions.deny) == 0 with input as {"plan": {"resources": [{"normalized": {"kind": "storage.bucket", "address": "a", "change": "delete", "region": "ap-south-1"}}]}}
}

test_configured_regions_replace_default if {
	count(regions.deny) == 0 with input as plan_with("ap-south-1")
		with data.goldenpath.config.allowed_regions as ["ap-south-1"]
	count(regions.deny) == 1 with input as plan_with("eu-west-1")
		with data.goldenpath.config.allowed_regions as ["ap-south-1"]
}
