# AWS resources carry the tags that say who owns them and who pays for them.
package goldenpath.required_tags

required_tags := ["owner", "cost-center"]

tag_value(resource, tag) := value if {
	is_object(resource.tags)
	value := resource.tags[tag]
}

has_tag(resource, tag) if {
	value := tag_value(resource, tag)
	is_string(value)
	trim_space(value) != ""
}

deny contains msg if {
	some resource in input.plan.resources
	startswith(resource.type, "aws:")
	some tag in required_tags
	not has_tag(resource, tag)
	msg := sprintf("resource '%s' (%s) must have a non-empty '%s' tag", [resource.name, resource.type, tag])
}
