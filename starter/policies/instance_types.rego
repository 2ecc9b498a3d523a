# Virtual machines are small, on every cloud: at most t3.medium on AWS, or its equivalent
# (2 vCPUs, 4 GiB) elsewhere. Judges native EC2 requests, Terraform instances, launch templates
# and autoscaling groups alike, through the resource vocabulary (input.plan.resources[_].normalized).
package goldenpath.instance_types

# Each cloud's ladder, smallest first; the last rung is the largest size allowed.
size_ladders := {
	"aws": ["t3.nano", "t3.micro", "t3.small", "t3.medium"],
	"google": ["e2-micro", "e2-small", "e2-medium"],
	"azurerm": ["Standard_B1ls", "Standard_B1s", "Standard_B1ms", "Standard_B2s"],
}

compute_kinds := {"compute.instance", "compute.launch_template", "compute.autoscaling_group"}

machines contains r if {
	some planned in input.plan.resources
	r := planned.normalized
	r.kind in compute_kinds
	r.change != "delete"
}

ladder_text(provider) := sprintf("the largest allowed %s size is %s (allowed: %s)", [
	provider,
	size_ladders[provider][count(size_ladders[provider]) - 1],
	concat(", ", size_ladders[provider]),
])

deny contains msg if {
	some r in machines
	some size in r.sizes
	size != "unknown"
	ladder := size_ladders[r.provider]
	not size in ladder
	msg := sprintf("%s (%s) uses size '%s', which is not allowed: %s", [r.address, r.provider_type, size, ladder_text(r.provider)])
}

deny contains msg if {
	some r in machines
	some size in r.sizes
	size == "unknown"
	msg := sprintf("%s (%s) has a size only known after apply; the platform cannot check it against the allowed sizes", [r.address, r.provider_type])
}

# An instance must say what it runs on; templates and groups may leave it to what launches them.
deny contains msg if {
	some r in machines
	r.kind == "compute.instance"
	count(r.sizes) == 0
	msg := sprintf("%s (%s) has no size; one of the allowed sizes must be set", [r.address, r.provider_type])
}

deny contains msg if {
	some r in machines
	count(r.sizes) > 0
	not size_ladders[r.provider]
	msg := sprintf("%s (%s): no size of provider '%s' is allowed", [r.address, r.provider_type, r.provider])
}
