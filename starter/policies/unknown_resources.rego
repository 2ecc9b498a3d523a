# Resources outside the platform's resource vocabulary pass, with a warning: no guardrail
# judges their size, exposure or cost until a mapping (or a policy of your own) covers them.
package goldenpath.unknown_resources

warn contains msg if {
	some planned in input.plan.resources
	r := planned.normalized
	r.kind == "unknown"
	r.change != "delete"
	msg := sprintf("resource '%s' (%s) is not in the platform's resource vocabulary: no guardrail judges its size, exposure or cost", [r.address, r.provider_type])
}
