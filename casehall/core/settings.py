"""Settings from the environment (prefix ``CASEHALL_``), built once in each entry point's ``main()``."""

from pathlib import Path

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
    # Ports of the embedded services that `casehall up` starts when the URLs above are unset.
    postgres_port: int = 5433
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    # Closed cases' workflow histories are copied into PostgreSQL this often (0: never); keep it well below the
    # Temporal namespace's retention period.
    archive_every_minutes: int = 60
    # Log-in tokens.
    token_ttl_hours: int = 12
    # The hall's working day, used by every deadline.
    timezone: str = "Asia/Shanghai"
    workday_start_hour: int = 9
    workday_end_hour: int = 17

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

    def resolved_temporal_address(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"
