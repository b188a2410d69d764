"""One typed settings object, shared by the dashboard, the scheduler and the CLI."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "flowpilot.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(
        default="",
        description="SQLAlchemy URL. Empty: the embedded SQLite file under ./data/.",
    )
    import_batch_size: int = Field(default=5000, ge=1, le=100_000)
    import_max_errors: int = Field(default=20, ge=1)
    scheduler_interval_seconds: int = Field(default=30, ge=1)
    analysis_batch_size: int = Field(default=500, ge=1, le=10_000)
    analysis_lease_seconds: int = Field(default=300, ge=5)
    analysis_max_attempts: int = Field(default=5, ge=1)
    analysis_backoff_seconds: int = Field(default=60, ge=0)
    session_idle_timeout_minutes: int = Field(default=60, ge=1)
    cache_ttl_seconds: int = Field(default=3600, ge=0)
    port: int = Field(default=8501, ge=1, le=65535)
    script_library_dir: str = ""  # extra folder of admin script templates; empty = shipped only

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        value = value.strip()
        # psycopg 3 is the only PostgreSQL driver we ship; accept the common spellings.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix):]
        return value

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{DEFAULT_SQLITE_PATH}"

    @property
    def uses_embedded_database(self) -> bool:
        return not self.database_url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
