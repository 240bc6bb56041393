"""The listing-change engine shared by the workspace, moderation and public suggestions."""
