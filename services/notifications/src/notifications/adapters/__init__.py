"""Adapters of the notifications service: Postgres and SMTP."""
