"""Messaging: outbox, inbox, and the bus adapters (RabbitMQ, in-memory)."""
