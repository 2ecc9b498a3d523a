"""Actions on an AWS account (or an S3/EC2-compatible endpoint such as moto or LocalStack)."""
