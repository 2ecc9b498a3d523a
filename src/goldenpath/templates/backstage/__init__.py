"""Backstage software templates (``scaffolder.backstage.io/v1beta3``, ``kind: Template``)."""
