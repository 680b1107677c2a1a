"""Adapters: the only modules of this service that touch stripe/asyncpg/aio_pika."""
