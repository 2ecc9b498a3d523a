package goldenpath.naming_test

import data.goldenpath.naming

plan_with(name) := {"plan": {"resources": [{"step": "db", "type": "postgres:database", "name": name}]}}

test_valid_names_allowed if {
	every name in ["orders", "orders-db", "orders_db_2", "ab"] {
		count(naming.deny) == 0 with input as plan_with(name)
	}
}

test_invalid_names_denied if {
	every name in ["Orders", "1orders", "o", "orders.db", "orders db", "", 42, null] {
		count(naming.deny) == 1 with input as plan_with(name)
	}
}

test_message_names_the_resource if {
	naming.deny == {"resource 'Orders' from step 'db' has an invalid name: it must start with a lower-case letter, contain only a-z, 0-9, '-' and '_', and be 2 to 63 characters long"} with input as plan_with("Orders")
}

test_length_limit if {
	count(naming.deny) == 0 with input as plan_with(concat("", ["a", concat("", [x | some _ in numbers.range(1, 62); x := "b"])]))
	count(naming.deny) == 1 with input as plan_with(concat("", ["a", concat("", [x | some _ in numbers.range(1, 63); x := "b"])]))
}
