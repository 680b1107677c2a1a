"""Customer self-service: the tenant's payment methods and invoice history
(projections fed by billing events; owner commands carried out at Stripe)."""
