"""The ``ci`` action family: secrets and variables in CI/CD systems (GitHub Actions, GitLab CI)."""
