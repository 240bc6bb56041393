"""Organizations, services, locations, schedules, meetings and taxonomy (Open Referral HSDS 3.0 aligned)."""
