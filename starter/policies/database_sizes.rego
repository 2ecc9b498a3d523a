# The platform's own PostgreSQL server (the `postgres` backend while none is configured) also
# holds the platform's own data: the databases it hosts for developers stay small, so that they
# cannot take the connections the platform needs. A bigger one needs a server of its own, or an
# exception that an approver accepts.
package goldenpath.database_sizes

allowed_on_platform_server := {"small"}

deny contains msg if {
	some planned in input.plan.resources
	r := planned.normalized
	r.kind == "database.instance"
	r.change != "delete"
	r.on_platform_server == true
	not r.size in allowed_on_platform_server
	msg := sprintf(
		"%s is a %v database (more than 20 connections) on the platform's own PostgreSQL server, which hosts small ones only: ask for an exception (--justification), or give databases a server of their own (backends.postgres in goldenpath.yaml)",
		[r.address, r.size],
	)
}
