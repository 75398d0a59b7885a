"""Settings from the environment (prefix ``CASEHALL_``), built once in each entry point's ``main()``."""

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob an operator may turn. Unset database URL / Temporal address mean: use the embedded ones."""

    model_config = SettingsConfigDict(env_prefix="CASEHALL_", env_file=".env", extra="ignore")

    database_url: str | None = None
    temporal_address: str | None = None
    temporal_namespace: str = "default"
    task_queue: str = "casehall"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    data_dir: Path = Path(".casehall")
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"  # json: one object per line, for a log collector
    # The API's database pool. A request holds a connection only while it reads or writes, never while it waits
    # for Temporal; pool_timeout bounds the wait for a free connection (then 503).
    db_pool_size: int = Field(10, ge=1, le=1000)  # kept open: connections past it are opened and closed per use
    db_max_overflow: int = Field(10, ge=0, le=1000)
    db_pool_timeout_seconds: float = Field(10, gt=0, le=600)
    db_connect_timeout_seconds: float = Field(5, gt=0, le=600)
    db_statement_timeout_seconds: float = Field(30, ge=0, le=3600)  # 0: no limit
    db_idle_in_transaction_timeout_seconds: float = Field(60, ge=0, le=3600)  # 0: no limit
    # Bound on every API call to Temporal (start, update, describe): past it the API answers 503. Registrations of
    # 64 concurrent windows on a loaded 2-core machine took up to 10 s: 30 leaves a margin.
    temporal_rpc_timeout_seconds: float = Field(30, gt=0, le=600)
    # `casehall api` alone: uvicorn worker processes. Request bodies above max_body_bytes are refused (413).
    api_workers: int = Field(1, ge=1, le=64)
    max_body_bytes: int = Field(1_048_576, ge=1024, le=100 * 1_048_576)
    # The Temporal worker's concurrency and sticky cache (temporalio's defaults).
    worker_max_concurrent_workflow_tasks: int = Field(100, ge=2, le=10_000)
    worker_max_concurrent_activities: int = Field(100, ge=1, le=10_000)
    worker_max_concurrent_local_activities: int = Field(100, ge=1, le=10_000)
    worker_max_cached_workflows: int = Field(1000, ge=0, le=1_000_000)
    # The SDK's workflow sandbox (checks every workflow call for clocks, randomness, I/O) in the worker. Off saves
    # ~5 ms of the worker's CPU per yes-path case (docs/capacity.md); the test suite always runs it.
    worker_workflow_sandbox: bool = True
    # Observability, all off by default. The worker's Temporal SDK metrics (and casehall's workflow counters) on a
    # Prometheus endpoint, e.g. "0.0.0.0:9464"; the API's own at GET /metrics; traces to an OTLP/HTTP collector,
    # e.g. "http://otel-collector:4318/v1/traces" (service name from OTEL_SERVICE_NAME, default casehall).
    worker_metrics_address: str | None = None
    api_metrics: bool = False
    otlp_endpoint: str | None = None
    # Ports of the embedded services that `casehall up` starts when the URLs above are unset.
    postgres_port: int = 5433
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    # Closed cases' workflow histories are copied into PostgreSQL this often (0: never); keep it well below the
    # Temporal namespace's retention period.
    archive_every_minutes: int = 60
    # Log-in tokens: absolute lifetime, and idle time after which an unused token stops working.
    token_ttl_hours: int = 12
    idle_timeout_minutes: int = 30
    # Failed log-ins: a username is locked after this many failures within the lock time, an address (a whole
    # hall may share one) after more; the lock lasts signin_lock_minutes.
    signin_max_failures: int = 5
    signin_address_max_failures: int = 20
    signin_lock_minutes: int = 15
    # Payload encryption in Temporal: "k2:<base64>,k1:<base64>" (the first encrypts; 32-byte keys). Unset with the
    # embedded Temporal: the key file under data_dir, created on first start.
    codec_keys: SecretStr | None = None
    # Origins allowed to call the codec endpoint (the Temporal UI), comma-separated; unset: the embedded UI.
    codec_cors_origins: str | None = None
    # The hall's working day, used by every deadline.
    timezone: str = "Asia/Shanghai"
    workday_start_hour: int = 9
    workday_end_hour: int = 17
    # Time limits of hotline orders: a profile of casehall/hotline/profiles.yaml (beijing | provincial).
    hotline_profile: str = "beijing"

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def embedded_temporal(self) -> bool:
        return self.temporal_address is None

    def resolved_database_url(self) -> str:
        return self.database_url or (
            f"postgresql+asyncpg://casehall@127.0.0.1:{self.postgres_port}/casehall"
        )

    @property
    def temporal_rpc_timeout(self) -> timedelta:
        return timedelta(seconds=self.temporal_rpc_timeout_seconds)

    def resolved_temporal_address(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    def resolved_codec_origins(self) -> list[str]:
        if self.codec_cors_origins:
            return [o.strip().rstrip("/") for o in self.codec_cors_origins.split(",") if o.strip()]
        return [f"http://127.0.0.1:{self.temporal_ui_port}", f"http://localhost:{self.temporal_ui_port}"]
