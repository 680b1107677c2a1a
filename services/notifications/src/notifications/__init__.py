"""Notifications: tells tenants by email what happened to their billing, once.

Consumes billing events into a small projection (recipient, state), queues each mail
in a send log with a unique dedupe key (kind, tenant, subject, day), and a sender loop
delivers it by SMTP after the commit, re-checking the state right before sending.
"""
