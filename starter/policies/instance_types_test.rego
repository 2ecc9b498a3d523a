package goldenpath.instance_types_test

import data.goldenpath.instance_types

machine(kind, provider, type, address, sizes) := {
	"kind": kind, "provider": provider, "provider_type": type, "address": address,
	"change": "create", "sizes": sizes,
}

plan_of(r) := {"plan": {"resources": [{"normalized": r}]}}

native_ec2(size) := plan_of(machine("compute.instance", "aws", "aws:ec2:instance", "aws:ec2:instance.web", [size]))

test_every_rung_of_every_ladder_allowed if {
	every provider, ladder in instance_types.size_ladders {
		every size in ladder {
			count(instance_types.deny) == 0 with input as plan_of(machine("compute.instance", provider, "vm", "vm.a", [size]))
		}
	}
}

test_native_ec2_large_denied if {
	instance_types.deny == {"aws:ec2:instance.web (aws:ec2:instance) uses size 'm5.large', which is not allowed: the largest allowed aws size is t3.medium (allowed: t3.nano, t3.micro, t3.small, t3.medium)"} with input as native_ec2("m5.large")
}

test_terraform_instance_denied_by_address if {
	some msg in instance_types.deny with input as plan_of(machine("compute.instance", "aws", "aws_instance", "module.web.aws_instance.app[0]", ["m5.4xlarge"]))
	startswith(msg, "module.web.aws_instance.app[0] (aws_instance) uses size 'm5.4xlarge'")
}

test_launch_template_and_group_judged if {
	count(instance_types.deny) == 1 with input as plan_of(machine("compute.launch_template", "aws", "aws_launch_template", "aws_launch_template.lt", ["c5.large"]))
	count(instance_types.deny) == 2 with input as plan_of(machine("compute.autoscaling_group", "aws", "aws_autoscaling_group", "aws_autoscaling_group.g", ["t3.small", "m5.large", "c5.xlarge"]))
	count(instance_types.deny) == 0 with input as plan_of(machine("compute.launch_template", "aws", "aws_launch_template", "aws_launch_template.lt", []))
}

test_other_clouds_ladders if {
	count(instance_types.deny) == 1 with input as plan_of(machine("compute.instance", "google", "google_compute_instance", "google_compute_instance.vm", ["n2-standard-8"]))
	count(instance_types.deny) == 1 with input as plan_of(machine("compute.instance", "azurerm", "azurerm_linux_virtual_machine", "azurerm_linux_virtual_machine.vm", ["Standard_D4s_v5"]))
	count(instance_types.deny) == 1 with input as plan_of(machine("compute.instance", "google", "google_compute_instance", "google_compute_instance.vm", ["t3.small"]))
}

test_unknown_size_denied if {
	instance_types.deny == {"aws_instance.a (aws_instance) has a size only known after apply; the platform cannot check it against the allowed sizes"} with input as plan_of(machine("compute.instance", "aws", "aws_instance", "aws_instance.a", ["unknown"]))
}

test_missing_size_denied_for_instances if {
	count(instance_types.deny) == 1 with input as plan_of(machine("compute.instance", "aws", "aws:ec2:instance", "aws:ec2:instance.web", []))
}

test_unladdered_provider_denied if {
	count(instance_types.deny) == 1 with input as plan_of(machine("compute.instance", "oci", "oci_core_instance", "oci_core_instance.a", ["VM.Standard.E4.Flex"]))
}

test_deletes_and_other_kinds_ignored if {
	count(instance_types.deny) == 0 with input as plan_of(object.union(machine("compute.instance", "aws", "aws_instance", "aws_instance.old", ["m5.large"]), {"change": "delete"}))
	count(instance_types.deny) == 0 with input as plan_of(machine("database.instance", "aws", "aws_db_instance", "aws_db_instance.db", ["db.m5.large"]))
}
