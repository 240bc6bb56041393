"""Meilisearch: index specs, document builders, queries, outbox sync, reindex and search views."""
