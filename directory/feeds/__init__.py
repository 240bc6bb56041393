"""Feeds we publish for other sites and apps: the Meeting Guide feeds (per fellowship and all together)."""
