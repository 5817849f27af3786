"""Settings: a commented TOML file, checked at start-up, overridable from the environment.

The schema below is the single source of truth: every key has a type and a
default. ``settings.toml`` in the working folder (or the file named by
``ASSISTANT_SETTINGS`` or ``--settings``) overrides defaults, and
``ASSISTANT_<SECTION>__<KEY>`` environment variables override the file. An
unknown key or a bad value stops start-up with a message naming the key.
"""

from __future__ import annotations

import json
import os
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError

SECRET_KEYS = {
    ("telegram", "token"),
    ("telegram", "webhook_secret"),
    ("matrix", "password"),
    ("storage", "url"),  # may carry the database password
    ("queue", "url"),  # may carry the RabbitMQ password
}
LANGUAGES = ("zh_CN", "en")


class SettingsError(AssistantError, ValueError):
    """A settings file or variable that cannot be used; the message names the key."""


@dataclass(frozen=True)
class Key:
    """One setting: its type, default and a check."""

    kind: type
    default: Any
    choices: tuple[Any, ...] = ()
    minimum: float | None = None


def _report_categories() -> list[dict[str, object]]:
    """The report categories when settings name none (checked by :func:`_check_report_categories`)."""
    from assistant.domain.urgency import DEFAULT_CATEGORIES

    return [dict(category) for category in DEFAULT_CATEGORIES]


SCHEMA: dict[str, dict[str, Key]] = {
    "storage": {"dir": Key(str, "data"), "url": Key(str, "")},
    "redis": {"url": Key(str, "")},
    "queue": {"url": Key(str, "")},
    "telegram": {
        "token": Key(str, ""),
        "base_url": Key(str, "https://api.telegram.org/bot"),
        "base_file_url": Key(str, "https://api.telegram.org/file/bot"),
        "webhook_url": Key(str, ""),
        "webhook_secret": Key(str, ""),
        "webhook_listen": Key(str, "127.0.0.1"),
        "webhook_port": Key(int, 8443, minimum=1),
        "max_messages_per_second": Key(float, 30.0, minimum=0.1),
        "max_group_messages_per_minute": Key(float, 20.0, minimum=0.1),
        "max_chat_messages_per_second": Key(float, 1.0, minimum=0.01),
        "bot_username": Key(str, ""),
    },
    "matrix": {
        "homeserver": Key(str, ""),
        "user_id": Key(str, ""),
        "password": Key(str, ""),
        "access_token": Key(str, ""),
        "device_name": Key(str, "neighbourhood-assistant"),
        "store_dir": Key(str, ""),
        "max_messages_per_second": Key(float, 10.0, minimum=0.1),
        "max_chat_messages_per_second": Key(float, 2.0, minimum=0.01),
        "max_group_messages_per_minute": Key(float, 30.0, minimum=0.1),
    },
    "community": {
        "name": Key(str, "城东社区"),
        "name_en": Key(str, "Chengdong Community"),
        "centre": Key(str, "幸福邻里中心"),
        "centre_en": Key(str, "Happiness Neighbourhood Centre"),
        "timezone": Key(str, "Asia/Shanghai"),
        "language": Key(str, "zh_CN", choices=LANGUAGES),
        "phone": Key(str, ""),
    },
    "roles": {"admins": Key(list, [])},
    "conversation": {"idle_minutes": Key(int, 30, minimum=1)},
    "workers": {
        "processes": Key(int, 2, minimum=0),
        "threads": Key(int, 4, minimum=1),
        "scheduler_interval_seconds": Key(float, 1.0, minimum=0.05),
        "lease_seconds": Key(float, 90.0, minimum=1.0),
    },
    "dispatch": {
        "wave_size": Key(int, 3, minimum=1),
        "waves": Key(int, 3, minimum=1),
        "wave_minutes": Key(float, 10.0, minimum=0.1),
        "reminder_hours": Key(list, [24, 1]),
        "safety_margin_minutes": Key(int, 30, minimum=0),
        "fairness_days": Key(int, 14, minimum=1),
        "follow_up_hour": Key(int, 10, minimum=0),
        "digest_hour": Key(int, 8, minimum=0),
        "on_way_hours": Key(float, 2.0, minimum=0),
    },
    "reports": {
        "radius_m": Key(int, 100, minimum=10),
        "merge_window_minutes": Key(int, 30, minimum=1),
        "red_hours": Key(float, 2.0, minimum=0.1),
        "yellow_hours": Key(float, 24.0, minimum=0.1),
        "blue_hours": Key(float, 72.0, minimum=0.1),
        "check_after_minutes": Key(int, 60, minimum=1),
        "max_per_hour": Key(int, 5, minimum=1),
        "photo_retention_days": Key(int, 7, minimum=1),
        "task_minutes": Key(int, 30, minimum=5),
        "weekly_hour": Key(int, 9, minimum=0),
        "categories": Key(list, _report_categories()),
    },
    "notices": {
        "in_flight": Key(int, 90, minimum=1),
        "progress_seconds": Key(float, 5.0, minimum=0.5),
        "remind_hours": Key(float, 3.0, minimum=0),
        "knock_skill": Key(str, "care"),
        "knock_retries": Key(int, 2, minimum=0),
        "knock_hour": Key(int, 10, minimum=0),
        "help_service": Key(str, "home_care"),
        "keep_days": Key(float, 7.0, minimum=0),
        "tidy_hour": Key(int, 3, minimum=0),
    },
    "activities": {
        "cancel_hours": Key(float, 2.0, minimum=0),
        "reminder_hour": Key(int, 18, minimum=0),
        "canteen_cutoff_hour": Key(int, 20, minimum=0),
        "days_ahead": Key(int, 7, minimum=1),
        "keep_days": Key(float, 30.0, minimum=1),
        "programme": Key(list, []),
    },
    "orders": {
        "hold_minutes": Key(float, 10.0, minimum=0.5),
        "list_edit_seconds": Key(float, 5.0, minimum=1.0),
        "list_max_chars": Key(int, 3500, minimum=200),
        "run_gather_minutes": Key(float, 30.0, minimum=0),
        "follow_up_hour": Key(int, 10, minimum=0),
    },
    "linking": {
        "code_minutes": Key(float, 10.0, minimum=1.0),
        "code_digits": Key(int, 6, minimum=4),
        "max_wrong": Key(int, 5, minimum=1),
        "wrong_window_minutes": Key(float, 60.0, minimum=1.0),
        "lock_minutes": Key(float, 60.0, minimum=1.0),
    },
}


@dataclass(frozen=True)
class Settings:
    """Validated settings, read as ``settings.section("telegram")["token"]``."""

    values: Mapping[str, Mapping[str, Any]]
    source: str = "defaults"
    services: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def section(self, name: str) -> Mapping[str, Any]:
        """All keys of one section."""
        return self.values[name]

    def get(self, section: str, key: str) -> Any:
        """One value."""
        return self.values[section][key]

    @property
    def data_dir(self) -> Path:
        """The storage folder, absolute."""
        return Path(self.get("storage", "dir")).expanduser().resolve()

    @property
    def timezone(self) -> zoneinfo.ZoneInfo:
        """The community's time zone."""
        return zoneinfo.ZoneInfo(self.get("community", "timezone"))

    @property
    def admins(self) -> tuple[str, ...]:
        """Addresses that are administrators."""
        return tuple(self.get("roles", "admins"))

    def redacted(self) -> dict[str, dict[str, Any]]:
        """The values with secrets hidden, for printing."""
        out: dict[str, dict[str, Any]] = {}
        for section, keys in self.values.items():
            out[section] = {
                key: ("***" if (section, key) in SECRET_KEYS and value else value)
                for key, value in keys.items()
            }
        return out

    def with_values(self, **sections: Mapping[str, Any]) -> Settings:
        """A copy with some keys replaced (validated again); for tests and tools."""
        merged = {name: dict(keys) for name, keys in self.values.items()}
        for name, keys in sections.items():
            for key, value in keys.items():
                merged.setdefault(name, {})[key] = value
        raw: dict[str, Any] = dict(merged)
        raw["services"] = {name: dict(body) for name, body in self.services.items()}
        return _validate(raw, self.source)


def _coerce(section: str, key: str, spec: Key, value: Any) -> Any:
    name = f"[{section}] {key}"
    if spec.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if spec.kind is int and isinstance(value, bool):
        raise SettingsError(f"{name}: expected a whole number, got {value!r}")
    if not isinstance(value, spec.kind):
        raise SettingsError(f"{name}: expected {spec.kind.__name__}, got {value!r}")
    if spec.choices and value not in spec.choices:
        raise SettingsError(f"{name}: must be one of {', '.join(map(str, spec.choices))}")
    if spec.minimum is not None and isinstance(value, int | float) and value < spec.minimum:
        raise SettingsError(f"{name}: must be at least {spec.minimum}")
    return value


def _from_env(spec: Key, text: str, name: str) -> Any:
    try:
        if spec.kind is str:
            return text
        if spec.kind is bool:
            return text.strip().lower() in ("1", "true", "yes", "on")
        if spec.kind is int:
            return int(text)
        if spec.kind is float:
            return float(text)
        if spec.kind is list:
            stripped = text.strip()
            if stripped.startswith("["):
                return json.loads(stripped)
            return [part.strip() for part in stripped.split(",") if part.strip()]
    except ValueError as error:
        raise SettingsError(f"{name}: cannot read {text!r} ({error})") from None
    raise SettingsError(f"{name}: unsupported type")


def _validate(raw: Mapping[str, Any], source: str) -> Settings:
    values: dict[str, dict[str, Any]] = {
        section: {key: spec.default for key, spec in keys.items()}
        for section, keys in SCHEMA.items()
    }
    services: dict[str, dict[str, Any]] = {}
    for section, body in raw.items():
        if section == "services":
            services = _validate_services(body)
            continue
        if section not in SCHEMA:
            raise SettingsError(f"[{section}]: unknown section (in {source})")
        if not isinstance(body, Mapping):
            raise SettingsError(f"[{section}]: must be a table")
        for key, value in body.items():
            spec = SCHEMA[section].get(key)
            if spec is None:
                raise SettingsError(f"[{section}] {key}: unknown key (in {source})")
            values[section][key] = _coerce(section, key, spec, value)
    try:
        zoneinfo.ZoneInfo(values["community"]["timezone"])
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"[community] timezone: unknown time zone {values['community']['timezone']!r}"
        ) from None
    _check_report_categories(values["reports"]["categories"])
    _check_programme(values["activities"])
    for admin in values["roles"]["admins"]:
        if not isinstance(admin, str) or ":" not in admin:
            raise SettingsError(f"[roles] admins: {admin!r} is not an address like telegram:123")
    if not services:
        from assistant.domain.catalogue import DEFAULT_SERVICES

        services = _validate_services(DEFAULT_SERVICES)
    return Settings(values=values, source=source, services=services)


def _check_report_categories(specs: Any) -> None:
    """``[[reports.categories]]``: each a known skill, tier and unique code."""
    from assistant.domain.catalogue import SKILLS
    from assistant.domain.urgency import categories

    try:
        categories(specs, SKILLS)
    except ValueError as error:
        raise SettingsError(f"[reports] categories: {error}") from None


def _check_programme(section: dict[str, Any]) -> None:
    """``[[activities.programme]]``: each activity complete and valid, its code unique."""
    from assistant.domain.programme import check

    try:
        section["programme"] = check(section["programme"])
    except ValueError as error:
        raise SettingsError(f"[activities] programme {error}") from None


def _validate_services(body: Any) -> dict[str, dict[str, Any]]:
    from assistant.domain.catalogue import check_service

    if not isinstance(body, Mapping):
        raise SettingsError("[services]: must be a table of services")
    out: dict[str, dict[str, Any]] = {}
    for name, spec in body.items():
        try:
            out[name] = check_service(name, spec)
        except ValueError as error:
            raise SettingsError(f"[services.{name}] {error}") from None
    return out


def load(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read defaults, then the settings file, then environment overrides.

    Args:
        path: the settings file; ``None`` means ``ASSISTANT_SETTINGS`` or
            ``./settings.toml`` when present.
        environ: the environment to read overrides from (``os.environ``).
    """
    env = os.environ if environ is None else environ
    chosen = path or env.get("ASSISTANT_SETTINGS")
    raw: dict[str, Any] = {}
    source = "defaults"
    if chosen:
        file = Path(chosen)
        if not file.is_file():
            raise SettingsError(f"settings file not found: {file}")
    else:
        file = Path("settings.toml")
    if file.is_file():
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise SettingsError(f"{file}: {error}") from None
        source = str(file)
    for variable, text in env.items():
        if not variable.startswith("ASSISTANT_") or "__" not in variable:
            continue
        section, _, key = variable[len("ASSISTANT_") :].partition("__")
        section, key = section.lower(), key.lower()
        spec = SCHEMA.get(section, {}).get(key)
        if spec is None:
            raise SettingsError(f"{variable}: no such setting [{section}] {key}")
        raw.setdefault(section, {})[key] = _from_env(spec, text, variable)
    return _validate(raw, source)


def defaults() -> Settings:
    """Settings with every default and nothing read from disk or the environment."""
    return _validate({}, "defaults")
