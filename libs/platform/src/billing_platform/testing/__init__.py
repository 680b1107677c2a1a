"""Test support shipped with the platform: the pytest plugin and fault-injection helpers.

Nothing here is used by production code paths; it is the harness every
service's integration tests share (fixtures for real Postgres and RabbitMQ).
"""
