"""The organization workspace: screens, JSON API and bulk upload."""
