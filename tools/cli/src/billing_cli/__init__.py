"""billing_cli."""
