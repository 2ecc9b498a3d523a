variable "name" {
  type = string
  validation {
    condition     = length(var.name) >= 3 && !endswith(var.name, "-")
    error_message = "The name must be at least 3 characters and must not end with '-'."
  }
}

variable "tier" {
  type    = string
  default = "bronze"
}

resource "terraform_data" "record" {
  input = {
    name = var.name
    tier = var.tier
    tags = { owner = "payments", tier = var.tier }
  }
}

output "greeting" {
  value = "hello ${var.name}"
}

output "token" {
  value     = sha256("${terraform_data.record.id}/token")
  sensitive = true
}
