variable "name" {
  type = string
}

variable "pause" {
  type    = string
  default = "0"
}

resource "terraform_data" "slow" {
  input = var.name
  provisioner "local-exec" {
    command = "sleep ${var.pause}"
  }
}

output "name" {
  value = terraform_data.slow.output
}
