"""Curated sample listings and a deterministic generator of synthetic ones, with fast loaders."""
