"""Campaign storage: SQLite by default, PostgreSQL for shared campaigns.

``Store.open(url)`` validates the URL, creates or upgrades the schema (Alembic migrations in
``migrations/``), and reads/writes the plain records of `automl.store.records`.
"""

from .errors import CampaignExists, StoreError, safe_url
from .records import (
    CAMPAIGN_STATUSES,
    CANDIDATE_STATUSES,
    CacheEntryRow,
    CampaignRecord,
    CandidateRow,
    EvaluationRow,
)
from .repository import Store

__all__ = [
    "CAMPAIGN_STATUSES",
    "CANDIDATE_STATUSES",
    "CacheEntryRow",
    "CampaignExists",
    "CampaignRecord",
    "CandidateRow",
    "EvaluationRow",
    "Store",
    "StoreError",
    "safe_url",
]
