"""Imports every table module so SQLModel.metadata knows them all (Alembic and tests use this)."""

import accounts.models  # noqa: F401
import core.outbox  # noqa: F401
import directory.edits.models
import directory.listings.details
import directory.listings.models
import directory.sources.models
import directory.stewardship.models  # noqa: F401
import referrals.models  # noqa: F401
