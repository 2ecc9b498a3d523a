# A request that would take the team over its monthly budget needs a human to approve it.
package goldenpath.budget

spend := object.get(input.team, "current_spend_usd", 0) if {
	object.get(input.team, "current_spend_usd", 0) != null
} else := 0

request_cost := object.get(input.plan, "total_monthly_cost_usd", 0) if {
	object.get(input.plan, "total_monthly_cost_usd", 0) != null
} else := 0

# What the plan's resources cost, from the price table (see docs/policies.md, "Cost model").
priced := [sprintf("%s %v USD", [r.normalized.address, r.monthly_cost_usd]) |
	some r in input.plan.resources
	is_number(r.monthly_cost_usd)
	r.monthly_cost_usd > 0
]

breakdown := sprintf(" (%s)", [concat(", ", priced)]) if count(priced) > 0

else := ""

require_approval contains msg if {
	budget := input.team.monthly_budget_usd
	budget != null
	projected := spend + request_cost
	projected > budget
	msg := sprintf(
		"team '%s' would exceed its monthly budget: %v USD already spent + %v USD for this request%s = %v USD, over the budget of %v USD",
		[input.team.name, spend, request_cost, breakdown, projected, budget],
	)
}
