# Resources live only in the regions the organisation has approved.
package goldenpath.regions

default_regions := {"eu-west-1", "eu-central-1", "us-east-1"}

# The platform's config (data.goldenpath.config.allowed_regions) overrides the default list.
allowed_regions := {region | some region in data.goldenpath.config.allowed_regions} if {
	data.goldenpath.config.allowed_regions
} else := default_regions

deny contains msg if {
	some resource in input.plan.resources
	region := object.get(resource, "region", null)
	region != null
	not region in allowed_regions
	msg := sprintf(
		"resource '%s' is in region '%v', which is not allowed (allowed: %s)",
		[resource.name, region, concat(", ", sort(allowed_regions))],
	)
}
