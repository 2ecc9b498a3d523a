# EC2 instances are at most t3.medium.
package goldenpath.instance_types

allowed_instance_types := {"t3.nano", "t3.micro", "t3.small", "t3.medium"}

deny contains msg if {
	some instance in input.plan.resources
	instance.type == "aws:ec2:instance"
	instance_type := object.get(instance, ["config", "instance_type"], "")
	not instance_type in allowed_instance_types
	msg := sprintf(
		"instance '%s' uses instance type '%s', which is not allowed: the largest allowed type is t3.medium (allowed: %s)",
		[instance.name, instance_type, concat(", ", ["t3.nano", "t3.micro", "t3.small", "t3.medium"])],
	)
}
