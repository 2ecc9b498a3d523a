# Secrets reach people only through secret outputs, never through a plain value.
package goldenpath.secret_outputs

deny contains msg if {
	some output in input.plan.outputs
	output.kind != "secret"
	refs := object.get(output, "secret_refs", [])
	count(refs) > 0
	msg := sprintf(
		"output '%s' would show a secret in plain text: it reads %s; declare it as a secret output instead",
		[output.name, concat(", ", refs)],
	)
}
