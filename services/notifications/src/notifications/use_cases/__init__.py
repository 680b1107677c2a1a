"""Use cases of the notifications service: sending, the card sweep, preferences, reads."""
