"""The conflict detection and resolution engine: plain functions over querysets.

Each function takes the models (real ones, or historical ones from ``apps.get_model`` inside a
migration) and a database alias, so the same code serves the migrations and ``conflict_audit``.
"""
