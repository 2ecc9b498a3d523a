# Resources live only in the regions the organisation has approved, on every cloud.
package goldenpath.regions

# AWS, Google Cloud and Azure names of Ireland/Belgium/Netherlands, Frankfurt and US East.
default_regions := {
	"eu-west-1", "eu-central-1", "us-east-1",
	"europe-west1", "europe-west3", "us-east1",
	"westeurope", "germanywestcentral", "eastus",
}

# The platform's config (data.goldenpath.config.allowed_regions) overrides the default list.
allowed_regions := {region | some region in data.goldenpath.config.allowed_regions} if {
	data.goldenpath.config.allowed_regions
} else := default_regions

# An attachment lives where the resource it configures lives, and is judged there.
placed contains r if {
	some planned in input.plan.resources
	r := planned.normalized
	not r.kind in {"attachment", "internal"}
	r.change != "delete"
	r.region != null
}

deny contains msg if {
	some r in placed
	r.region != "unknown"
	not r.region in allowed_regions
	msg := sprintf(
		"resource '%s' is in region '%v', which is not allowed (allowed: %s)",
		[r.address, r.region, concat(", ", sort(allowed_regions))],
	)
}

deny contains msg if {
	some r in placed
	r.region == "unknown"
	msg := sprintf("resource '%s' (%s) has a region only known after apply; set its provider's region so it can be checked", [r.address, r.provider_type])
}
