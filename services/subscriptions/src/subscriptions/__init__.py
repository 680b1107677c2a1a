"""The subscriptions service.

The tenant's plan and status, cancel at period end, resume, proration
preview, plan changes and payment-failure state.
"""
