"""Analytics service: the MRR-movement ledger fed by billing events, and the revenue
metrics operators read (``GET /api/billing/admin/metrics``, ``billing:admin``)."""
