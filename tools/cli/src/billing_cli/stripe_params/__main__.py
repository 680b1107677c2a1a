"""`python -m billing_cli.stripe_params`: the parameter audit (`billing stripe audit-params`)."""

from billing_cli.stripe_params.command import run

raise SystemExit(run())
