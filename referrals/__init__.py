"""Warm referrals between peers and organizations: consent, the workflow, timers, metrics, FHIR export."""
