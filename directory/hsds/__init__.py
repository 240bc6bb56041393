"""Open Referral HSDS 3.0: the read API, CSV/JSON export and import, and our extension attributes.

`spec` describes the standard's resources and fields (written from the specification, not copied from it),
`serialize` and `bodies` turn our tables into HSDS rows and bodies, `export` streams whole datasets,
`importer` validates and writes datasets all-or-nothing, `api` serves `/api/hsds/`.
"""
