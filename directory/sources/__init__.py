"""Feed sources: Meeting Guide feeds of service bodies, read leniently, synced per source."""
