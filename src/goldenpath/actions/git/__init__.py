"""The ``git`` action family: repositories created from a template's skeleton.

One action (`repo.GitRepo`) and one module per hosting provider: ``local`` (bare repositories the
platform serves itself), ``github`` and ``gitea`` (REST APIs, through the adapter in ``rest``).
"""
