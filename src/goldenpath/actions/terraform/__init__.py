"""The ``terraform`` action family: Terraform modules as golden paths."""
