"""Accounts, roles, organization membership, sessions, CSRF and API tokens."""
