"""Keeping listings true: moderation, claims, public suggestions and freshness."""
