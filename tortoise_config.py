"""Entry point for Tortoise's own CLI (``python -m tortoise -c tortoise_config.TORTOISE_ORM``).

Used by developers to write new migrations: ``make migrations``.
"""

from app.db import tortoise_config
from infra.settings import load_settings

TORTOISE_ORM = tortoise_config(load_settings().database_url)
