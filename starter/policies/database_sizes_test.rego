package goldenpath.database_sizes_test

import data.goldenpath.database_sizes

database(size, on_platform_server) := {"plan": {"resources": [{"normalized": {
	"kind": "database.instance",
	"provider_type": "postgres:database",
	"address": "postgres:database.orders",
	"change": "create",
	"size": size,
	"on_platform_server": on_platform_server,
}}]}}

test_a_small_database_on_the_platform_server_is_allowed if {
	count(database_sizes.deny) == 0 with input as database("small", true)
}

test_a_medium_database_on_the_platform_server_is_denied if {
	database_sizes.deny == {"postgres:database.orders is a medium database (more than 20 connections) on the platform's own PostgreSQL server, which hosts small ones only: ask for an exception (--justification), or give databases a server of their own (backends.postgres in goldenpath.yaml)"} with input as database("medium", true)
}

test_larger_or_unsized_databases_on_the_platform_server_are_denied if {
	every size in ["large", null, "db.m5.large"] {
		count(database_sizes.deny) == 1 with input as database(size, true)
	}
}

test_any_size_on_a_server_of_its_own_is_allowed if {
	every size in ["small", "medium", "large", null] {
		count(database_sizes.deny) == 0 with input as database(size, false)
	}
}

test_a_description_without_the_fact_is_not_on_the_platform_server if {
	doc := {"plan": {"resources": [{"normalized": {"kind": "database.instance", "address": "aws_db_instance.main", "change": "create", "size": "db.m5.large"}}]}}
	count(database_sizes.deny) == 0 with input as doc
}

test_deleting_a_database_is_never_denied if {
	doc := {"plan": {"resources": [{"normalized": {"kind": "database.instance", "address": "postgres:database.orders", "change": "delete", "size": "large", "on_platform_server": true}}]}}
	count(database_sizes.deny) == 0 with input as doc
}

test_other_kinds_are_not_judged if {
	doc := {"plan": {"resources": [{"normalized": {"kind": "cache.cluster", "address": "redis:user.cache", "change": "create", "size": null, "on_platform_server": true}}]}}
	count(database_sizes.deny) == 0 with input as doc
}
