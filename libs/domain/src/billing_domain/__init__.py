"""billing_domain."""
