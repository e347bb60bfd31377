"""The portal's JSON API blueprints under /api/v1."""
