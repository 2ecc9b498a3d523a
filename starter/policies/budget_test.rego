package goldenpath.budget_test

import data.goldenpath.budget

request(budget_usd, spend_usd, cost_usd) := {
	"team": {"name": "payments", "monthly_budget_usd": budget_usd, "current_spend_usd": spend_usd},
	"plan": {"resources": [], "total_monthly_cost_usd": cost_usd},
}

test_within_budget_needs_no_approval if {
	count(budget.require_approval) == 0 with input as request(500, 120, 15)
}

test_exactly_at_budget_needs_no_approval if {
	count(budget.require_approval) == 0 with input as request(500, 485, 15)
}

test_over_budget_requires_approval if {
	budget.require_approval == {"team 'payments' would exceed its monthly budget: 490 USD already spent + 15 USD for this request = 505 USD, over the budget of 500 USD"} with input as request(500, 490, 15)
}

test_over_budget_is_not_a_deny if {
	not budget.deny with input as request(500, 490, 15)
}

test_no_budget_means_no_approval if {
	count(budget.require_approval) == 0 with input as request(null, 10000, 15)
}

test_missing_spend_counts_as_zero if {
	count(budget.require_approval) == 1 with input as request(10, null, 15)
}

test_the_message_lists_what_the_plan_costs if {
	doc := {
		"team": {"name": "payments", "monthly_budget_usd": 1000, "current_spend_usd": 0},
		"plan": {"total_monthly_cost_usd": 1121.28, "resources": [
			{"monthly_cost_usd": 560.64, "normalized": {"address": "module.web.aws_instance.app[0]"}},
			{"monthly_cost_usd": 560.64, "normalized": {"address": "module.web.aws_instance.app[1]"}},
			{"monthly_cost_usd": null, "normalized": {"address": "terraform:workspace.web"}},
		]},
	}
	budget.require_approval == {"team 'payments' would exceed its monthly budget: 0 USD already spent + 1121.28 USD for this request (module.web.aws_instance.app[0] 560.64 USD, module.web.aws_instance.app[1] 560.64 USD) = 1121.28 USD, over the budget of 1000 USD"} with input as doc
}
