"""Typed settings, read once at start-up from config.yml and the environment.

A missing or malformed value fails here, naming itself, rather than deep inside a
request. Secrets are read only from the environment and are never part of repr().
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from bot.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config.yml"


@dataclass(frozen=True)
class NLUSettings:
    training_data: Path
    model_path: Path
    fallback_threshold: float = 0.45
    ambiguity_threshold: float = 0.08
    # Rasa-style components, in order: each a mapping with `name` and its options
    # (bot/nlu/pipeline.py reads them; an empty pipeline means its defaults).
    pipeline: tuple[dict[str, Any], ...] = ()
    seed: int = 42


@dataclass(frozen=True)
class DialogueSettings:
    flows: Path
    responses: Path
    max_message_chars: int = 2000
    session_expiry_minutes: int = 60


@dataclass(frozen=True)
class CallCenterSettings:
    timezone: str = "America/New_York"
    phone: str = "800-688-6696"
    open: str = "08:00"
    close: str = "17:00"
    days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")


@dataclass(frozen=True)
class SecuritySettings:
    """Issue 14: how long an identity check lasts and the abuse limits (config.yml ``security``).
    See docs/security.md."""

    identity_verified_minutes: int = 15  # a passed check, in the channel session that passed it
    tickets_per_conversation_per_hour: int = 3
    tickets_per_client_per_hour: int = 20  # one client address, any conversation
    tickets_per_recipient_per_hour: int = 5  # acknowledgement emails to one address
    status_checks_per_conversation_per_hour: int = 10
    status_checks_per_client_per_hour: int = 30
    staff_logins_per_client_per_15_minutes: int = 20  # failed or not, by client address

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], env: Mapping[str, str]) -> "SecuritySettings":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ConfigError(f"config security has unknown settings: {', '.join(sorted(unknown))}")
        values = {name: int(value) for name, value in raw.items()}
        if env.get("HELPDESK_IDENTITY_VERIFIED_MINUTES"):
            values["identity_verified_minutes"] = int(env["HELPDESK_IDENTITY_VERIFIED_MINUTES"])
        if any(value < 1 for value in values.values()):
            raise ConfigError("config security: every limit must be a positive whole number")
        return cls(**values)


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    mode: str
    database_url: str
    nlu: NLUSettings
    dialogue: DialogueSettings
    kb_path: Path
    call_center: CallCenterSettings
    action_endpoint: str | None = None
    redis_url: str | None = None
    security: SecuritySettings = field(default_factory=SecuritySettings)
    # Secrets: from the environment only, hidden from repr so they never reach logs.
    api_token: str | None = field(default=None, repr=False)
    # Issue 14: production refuses to start without HELPDESK_API_TOKEN unless this says, by
    # name, that the tracker and trigger_intent may be open (a private network only).
    insecure_no_api_token: bool = False
    twilio_account_sid: str | None = field(default=None, repr=False)
    twilio_auth_token: str | None = field(default=None, repr=False)
    twilio_from_number: str | None = None
    twilio_base_url: str | None = None
    public_url: str | None = None
    smtp_url: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_api_url: str | None = None
    # --- issue 5: Slack OAuth (several workspaces) and Socket Mode ---
    slack_client_id: str | None = None
    slack_client_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def development(self) -> bool:
        return self.mode == "development"

    @classmethod
    def load(
        cls,
        path: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> "Settings":
        env = os.environ if env is None else env
        config_path = Path(env.get("HELPDESK_CONFIG", path or DEFAULT_CONFIG))
        try:
            raw = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError as exc:
            raise ConfigError(f"config file not found: {config_path}") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {config_path} is not valid YAML: {exc}") from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"config file {config_path} must hold a mapping")
        root = config_path.resolve().parent

        def section(name: str) -> dict[str, Any]:
            value = raw.get(name) or {}
            if not isinstance(value, dict):
                raise ConfigError(f"config '{name}' must be a mapping")
            return value

        def path_of(value: Any, name: str) -> Path:
            if not isinstance(value, str) or not value:
                raise ConfigError(f"config '{name}' must be a path")
            p = Path(value)
            return p if p.is_absolute() else root / p

        server, database, nlu, dialogue = (
            section("server"), section("database"), section("nlu"), section("dialogue")
        )
        pipeline = nlu.get("pipeline") or []
        if not isinstance(pipeline, list) or not all(isinstance(s, dict) and s.get("name") for s in pipeline):
            raise ConfigError("config 'nlu.pipeline' must be a list of mappings with a 'name'")
        cc = section("call_center")
        hours = cc.get("hours") or {}

        db_url = env.get("HELPDESK_DATABASE_URL") or database.get("url") or "sqlite:///var/helpdesk.sqlite3"
        if db_url.startswith("sqlite:///") and not db_url.startswith("sqlite:////"):
            relative = db_url.removeprefix("sqlite:///")
            if relative and relative != ":memory:":
                db_url = f"sqlite:///{root / relative}"

        try:
            port = int(env.get("HELPDESK_PORT") or server.get("port", 5005))
            values: dict[str, Any] = dict(
                host=env.get("HELPDESK_HOST") or str(server.get("host", "127.0.0.1")),
                port=port,
                mode=env.get("HELPDESK_MODE") or str(server.get("mode", "development")),
                database_url=db_url,
                nlu=NLUSettings(
                    training_data=path_of(nlu.get("training_data", "data/nlu.yml"), "nlu.training_data"),
                    model_path=path_of(
                        env.get("HELPDESK_NLU_MODEL") or nlu.get("model_path", "models/nlu.json"),
                        "nlu.model_path",
                    ),
                    fallback_threshold=float(nlu.get("fallback_threshold", 0.45)),
                    ambiguity_threshold=float(nlu.get("ambiguity_threshold", 0.08)),
                    pipeline=tuple(dict(step) for step in pipeline),
                    seed=int(nlu.get("seed", 42)),
                ),
                dialogue=DialogueSettings(
                    flows=path_of(dialogue.get("flows", "data/flows"), "dialogue.flows"),
                    responses=path_of(dialogue.get("responses", "data/responses"), "dialogue.responses"),
                    max_message_chars=int(dialogue.get("max_message_chars", 2000)),
                    session_expiry_minutes=int(dialogue.get("session_expiry_minutes", 60)),
                ),
                kb_path=path_of(section("knowledge_base").get("path", "kb"), "knowledge_base.path"),
                call_center=CallCenterSettings(
                    timezone=str(cc.get("timezone", "America/New_York")),
                    phone=str(cc.get("phone", "800-688-6696")),
                    open=str(hours.get("open", "08:00")),
                    close=str(hours.get("close", "17:00")),
                    days=tuple(hours.get("days", ("mon", "tue", "wed", "thu", "fri"))),
                ),
                action_endpoint=env.get("HELPDESK_ACTION_ENDPOINT") or raw.get("action_endpoint"),
                redis_url=env.get("HELPDESK_REDIS_URL") or None,
                security=SecuritySettings.from_mapping(section("security"), env),
                api_token=env.get("HELPDESK_API_TOKEN") or None,
                insecure_no_api_token=(env.get("HELPDESK_INSECURE_NO_API_TOKEN") or "").lower()
                in {"1", "true", "yes"},
                twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
                twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
                twilio_from_number=env.get("TWILIO_FROM_NUMBER") or None,
                twilio_base_url=env.get("HELPDESK_TWILIO_BASE_URL") or None,
                public_url=env.get("HELPDESK_PUBLIC_URL") or None,
                smtp_url=env.get("HELPDESK_SMTP_URL") or None,
                secret_key=env.get("HELPDESK_SECRET_KEY") or None,
                slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
                slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
                slack_api_url=env.get("HELPDESK_SLACK_API_URL") or None,
                # --- issue 5: Slack OAuth and Socket Mode ---
                slack_client_id=env.get("SLACK_CLIENT_ID") or None,
                slack_client_secret=env.get("SLACK_CLIENT_SECRET") or None,
                slack_app_token=env.get("SLACK_APP_TOKEN") or None,
                raw=raw,
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"config value has the wrong type: {exc}") from exc
        values.update(overrides)
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if not 0 < self.port < 65536:
            raise ConfigError(f"server.port must be 1-65535, got {self.port}")
        if self.mode not in {"development", "production"}:
            raise ConfigError(f"server.mode must be development or production, got {self.mode!r}")
        if not 0.0 <= self.nlu.fallback_threshold <= 1.0:
            raise ConfigError("nlu.fallback_threshold must be between 0 and 1")
        if self.mode == "production" and not self.secret_key:
            raise ConfigError("HELPDESK_SECRET_KEY must be set in production mode")
        if self.mode == "production" and not self.api_token and not self.insecure_no_api_token:
            raise ConfigError("HELPDESK_API_TOKEN must be set in production mode (or set "
                              "HELPDESK_INSECURE_NO_API_TOKEN=1 to leave the tracker and trigger_intent "
                              "open, on a private network only; see docs/security.md)")
