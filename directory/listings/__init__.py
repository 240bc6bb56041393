"""Listings: the HSDS tables, their input schemas, reading and writing them, and their public pages."""
