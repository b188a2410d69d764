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
    import_batch_size: int = Field(default=5000, ge=1, le=100_000,
                                   description="Sessions per write batch during an import.")
    import_max_errors: int = Field(default=20, ge=1,
                                   description="Invalid records an import reports before it stops reading.")
    scheduler_interval_seconds: int = Field(default=30, ge=1, description="How often the scheduler's jobs run.")
    analysis_batch_size: int = Field(default=500, ge=1, le=10_000,
                                     description="Queued sessions one scheduler process claims and analyses at a time.")
    analysis_lease_seconds: int = Field(default=300, ge=5, description=(
        "How long a claim lasts: a process that dies mid-batch leaves its sessions to others after this."))
    analysis_max_attempts: int = Field(default=5, ge=1,
                                       description="Tries before a session that keeps failing analysis is marked failed.")
    analysis_backoff_seconds: int = Field(default=60, ge=0,
                                          description="Wait before a failed session is tried again (doubles each try).")
    # A float so that a test can wait seconds, not an hour; the default stays a whole number.
    session_idle_timeout_minutes: float = Field(default=60, gt=0, description=(
        "A dashboard user idle this long (in every tab of their browser) is signed out."))
    session_lifetime_hours: float = Field(default=12, gt=0, le=24 * 30, description=(
        "A browser stays signed in at most this long after signing in, however active; then it asks again."))
    cache_ttl_seconds: int = Field(default=3600, ge=0,
                                   description="How long the dashboard keeps figures before reading them again.")
    port: int = Field(default=8501, ge=1, le=65535, description="The dashboard's port (`make run`).")
    script_library_dir: str = Field(default="", description=(
        "An extra folder of the admins' own script templates; empty: the shipped library only."))

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
