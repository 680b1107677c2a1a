"""The webhooks service.

Verified, idempotent, retried ingestion of Stripe events turned into billing
events for every other service.
"""
