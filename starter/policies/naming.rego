# Resource names are lower-case identifiers that every backend accepts.
package goldenpath.naming

name_pattern := `^[a-z][a-z0-9_-]{1,62}$`

valid_name(name) if {
	is_string(name)
	regex.match(name_pattern, name)
}

rule_text := "it must start with a lower-case letter, contain only a-z, 0-9, '-' and '_', and be 2 to 63 characters long"

deny contains msg if {
	some resource in input.plan.resources
	name := object.get(resource, "name", null)
	is_string(name)
	not valid_name(name)
	msg := sprintf("resource '%s' from step '%s' has an invalid name: %s", [name, object.get(resource, "step", "?"), rule_text])
}

deny contains msg if {
	some resource in input.plan.resources
	name := object.get(resource, "name", null)
	not is_string(name)
	msg := sprintf("resource from step '%s' has no valid name (got %v): %s", [object.get(resource, "step", "?"), name, rule_text])
}
