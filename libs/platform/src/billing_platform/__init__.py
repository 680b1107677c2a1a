"""billing_platform."""
