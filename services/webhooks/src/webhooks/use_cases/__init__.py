"""The webhooks service's use cases: ingest, process, operate."""
