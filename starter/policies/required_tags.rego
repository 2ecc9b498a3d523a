# Cloud resources carry the tags (GCP: labels) that say who owns them and who pays for them,
# whether a native action or a Terraform plan makes them.
package goldenpath.required_tags

required_tags := ["owner", "cost-center"]

clouds := {"aws", "google", "azurerm"}

# Settings of other resources and the platform's own records carry no tags of their own.
untagged_kinds := {"attachment", "internal", "terraform.workspace", "unknown"}

taggable contains r if {
	some planned in input.plan.resources
	r := planned.normalized
	r.provider in clouds
	not r.kind in untagged_kinds
	r.change != "delete"
}

has_tag(r, tag) if {
	value := r.tags[tag]
	is_string(value)
	trim_space(value) != ""
}

deny contains msg if {
	some r in taggable
	is_object(r.tags)
	some tag in required_tags
	not has_tag(r, tag)
	msg := sprintf("resource '%s' (%s) must have a non-empty '%s' tag", [r.address, r.provider_type, tag])
}

deny contains msg if {
	some r in taggable
	not is_object(r.tags)
	msg := sprintf("resource '%s' (%s) has tags only known after apply; it must have non-empty %s tags", [r.address, r.provider_type, concat(" and ", required_tags)])
}
