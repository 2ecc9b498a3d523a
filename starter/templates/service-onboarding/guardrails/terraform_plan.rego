# Plans of the service-onboarding module: it only records services, and records their owner.
package goldenpath.terraform.service_onboarding

allowed_types := {"terraform_data"}

deny contains msg if {
	some change in input.resource_changes
	not change.type in allowed_types
	msg := sprintf("%s: service onboarding may only create %v resources, not %s", [change.address, allowed_types, change.type])
}

deny contains msg if {
	some change in input.resource_changes
	change.address == "terraform_data.service"
	"create" in change.change.actions
	owner := object.get(change.change, ["after", "input", "tags", "owner"], "")
	owner == ""
	msg := sprintf("%s must be tagged with its owner team", [change.address])
}
