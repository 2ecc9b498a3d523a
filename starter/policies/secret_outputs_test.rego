package goldenpath.secret_outputs_test

import data.goldenpath.secret_outputs

plan_with(output) := {"plan": {"resources": [], "outputs": [output]}}

test_secret_output_allowed if {
	count(secret_outputs.deny) == 0 with input as plan_with({
		"name": "password", "kind": "secret",
		"expression": "${{ steps.db.output.password }}", "secret_refs": ["steps.db.output.password"],
	})
}

test_plain_output_without_secrets_allowed if {
	count(secret_outputs.deny) == 0 with input as plan_with({
		"name": "dsn", "kind": "value",
		"expression": "${{ steps.db.output.dsn }}", "secret_refs": [],
	})
}

test_secret_in_plain_output_denied if {
	secret_outputs.deny == {"output 'dsn' would show a secret in plain text: it reads steps.db.output.password; declare it as a secret output instead"} with input as plan_with({
		"name": "dsn", "kind": "value",
		"expression": "postgres://app:${{ steps.db.output.password }}@db", "secret_refs": ["steps.db.output.password"],
	})
}

test_secret_in_text_or_link_denied if {
	every kind in ["text", "link"] {
		count(secret_outputs.deny) == 1 with input as plan_with({"name": "x", "kind": kind, "expression": "", "secret_refs": ["steps.db.output.password"]})
	}
}
