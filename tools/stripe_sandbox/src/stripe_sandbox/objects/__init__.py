"""Builders for Stripe objects, one module per resource; keys follow fixtures3.json."""
