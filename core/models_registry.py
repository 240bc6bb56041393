"""Imports every table module so SQLModel.metadata knows them all (Alembic and tests use this)."""

import accounts.models  # noqa: F401
import core.outbox  # noqa: F401
import directory.models
import directory.models_admin
import directory.models_details
import directory.sources.models  # noqa: F401
import referrals.models  # noqa: F401
