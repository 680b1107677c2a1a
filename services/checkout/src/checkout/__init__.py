"""The checkout service.

Checkout sessions, the Customer Portal and server-side verification of a
returned session.
"""
