# Service onboarding: records a service and derives what its team needs to run it.
# Only Terraform's built-in `terraform_data` is used, so the module runs without any provider
# download. A real platform module would use its cloud's provider in the same shape.

terraform {
  required_version = ">= 1.4"
}

variable "name" {
  type        = string
  description = "Service name; also its host name under var.domain."

  validation {
    condition     = length(var.name) >= 3 && length(var.name) <= 40 && can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.name))
    error_message = "The service name must be a valid host name: 3-40 lower-case letters or digits, with single hyphens only between them (no trailing or doubled '-')."
  }
}

variable "owner" {
  type        = string
  description = "Owner team."
}

variable "tier" {
  type        = string
  description = "Support tier: gold, silver or bronze."

  validation {
    condition     = contains(["gold", "silver", "bronze"], var.tier)
    error_message = "The tier must be one of gold, silver or bronze."
  }
}

variable "domain" {
  type        = string
  description = "DNS zone the services live in."
  default     = "services.internal"
}

locals {
  replicas = { gold = 3, silver = 2, bronze = 1 }[var.tier]
  tags = {
    owner        = var.owner
    tier         = var.tier
    "managed-by" = "goldenpath"
  }
}

resource "terraform_data" "service" {
  input = {
    name     = var.name
    owner    = var.owner
    tier     = var.tier
    replicas = local.replicas
    tags     = local.tags
  }
}

# The service's API key: stable for the life of the service, new when it is re-created.
resource "terraform_data" "api_key" {
  triggers_replace = [terraform_data.service.id]
  input            = sha256("${terraform_data.service.id}/${var.name}/api-key")
}

output "service_id" {
  value = terraform_data.service.id
}

output "endpoint" {
  value = "https://${var.name}.${var.domain}"
}

output "runbook_url" {
  value = "https://runbooks.${var.domain}/${var.name}"
}

output "replicas" {
  value = local.replicas
}

output "api_key" {
  value     = terraform_data.api_key.output
  sensitive = true
}
