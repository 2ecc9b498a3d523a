"""Backstage's scaffolder actions, mapped onto ours (``fetch:*``, ``fs:*``, ``publish:*``,
``catalog:*``)."""
