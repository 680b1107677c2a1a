"""HTTP edge shared by every service: app factory, auth, errors, middleware."""
