"""Configuration: one TOML file, validated by pydantic.

Errors name the culprit: a TOML syntax error gives the line and column, a
validation error gives the dotted key path (``feeds[3].section``).
"""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from newsdesk.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """Parse ``36h``, ``2d``, ``90m`` into a timedelta."""
    m = _DURATION.match(text or "")
    if not m:
        raise ValueError(f"not a duration: {text!r} (use e.g. 24h, 2d, 90m)")
    return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Section(_Model):
    name: str = Field(min_length=1)
    emoji: str = ""
    order: int = 0


class FeedConfig(_Model):
    url: str = Field(min_length=1)
    section: str
    title: str | None = None
    enabled: bool = True
    fulltext: bool = False


class BriefingConfig(_Model):
    timezone: str = "America/Toronto"
    lookback: str = "24h"
    per_section_cap: int = Field(default=5, ge=1, le=50)
    tags: list[str] = Field(default_factory=lambda: ["briefing"])
    word_budget: int = Field(default=1500, ge=100)
    summary_words: int = Field(default=60, ge=10)
    summary_sentences: int = Field(default=3, ge=1, le=10)
    boost: list[str] = Field(default_factory=list)
    mute: list[str] = Field(default_factory=list)
    rising_topics: bool = True

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name such as America/Toronto)")
        return v

    @field_validator("lookback")
    @classmethod
    def _lookback(cls, v: str) -> str:
        parse_duration(v)
        return v

    @property
    def lookback_delta(self) -> timedelta:
        return parse_duration(self.lookback)


class WeatherConfig(_Model):
    location: str = "Pembroke, Ontario"
    section: str = "Weather"
    provider: Literal["environment-canada", "open-meteo"] = "environment-canada"
    url: str | None = None
    latitude: float | None = None
    longitude: float | None = None


class FetchConfig(_Model):
    concurrency: int = Field(default=8, ge=1, le=64)
    timeout: float = Field(default=20.0, gt=0)
    max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_retries: int = Field(default=2, ge=0, le=10)
    backoff_base: float = Field(default=1.0, ge=0)
    max_retry_after: float = Field(default=30.0, ge=0)
    allow_private: bool = False
    user_agent: str | None = None


class LLMConfig(_Model):
    backend: Literal["none", "openai", "sagemaker"] = "none"
    base_url: str | None = None
    model: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    endpoint_name: str | None = None
    endpoint_url: str | None = None  # SageMaker runtime endpoint override (tests, VPC endpoints)
    region: str | None = None
    timeout: float = 60.0
    max_tokens: int = 512
    temperature: float = 0.0


class EmbeddingsConfig(_Model):
    backend: Literal["local", "openai", "none"] = "local"
    model: str = "all-MiniLM-L6-v2"
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    batch_size: int = Field(default=32, ge=1)


class AskConfig(_Model):
    k: int = Field(default=5, ge=1, le=100)
    chunk_size: int = Field(default=1000, ge=100)
    chunk_overlap: int = Field(default=100, ge=0)
    child_size: int = Field(default=400, ge=50)
    parent_size: int = Field(default=2000, ge=200)
    abstain_threshold: float | None = None


class EmailConfig(_Model):
    enabled: bool = False
    host: str = "localhost"
    port: int = 587
    starttls: bool = True
    sender: str = "newsdesk@localhost"
    to: list[str] = Field(default_factory=list)
    username_env: str = "NEWSDESK_SMTP_USER"
    password_env: str = "NEWSDESK_SMTP_PASSWORD"


class VaultConfig(_Model):
    enabled: bool = False
    path: str | None = None
    folder: str = "Briefings"


class DeliveryConfig(_Model):
    email: EmailConfig = Field(default_factory=EmailConfig)
    vault: VaultConfig = Field(default_factory=VaultConfig)


class ServeConfig(_Model):
    host: str = "127.0.0.1"
    port: int = 8765
    token_env: str = "NEWSDESK_TOKEN"
    token: str | None = None
    upload_max_bytes: int = 20 * 1024 * 1024
    schedule_at: str | None = None


class PolicyRule(_Model):
    name: str
    action: Literal["drop", "flag"] = "drop"
    keywords: list[str] = Field(default_factory=list)
    regex: list[str] = Field(default_factory=list)
    sections: list[str] = Field(default_factory=list)
    feeds: list[str] = Field(default_factory=list)

    @field_validator("regex")
    @classmethod
    def _regex(cls, v: list[str]) -> list[str]:
        for r in v:
            try:
                re.compile(r)
            except re.error as e:
                raise ValueError(f"invalid regular expression {r!r}: {e}")
        return v


class Config(_Model):
    sections: list[Section] = Field(default_factory=list)
    feeds: list[FeedConfig] = Field(default_factory=list)
    briefing: BriefingConfig = Field(default_factory=BriefingConfig)
    weather: WeatherConfig = Field(default_factory=WeatherConfig)
    fetch: FetchConfig = Field(default_factory=FetchConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    embeddings: EmbeddingsConfig = Field(default_factory=EmbeddingsConfig)
    ask: AskConfig = Field(default_factory=AskConfig)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    serve: ServeConfig = Field(default_factory=ServeConfig)
    policy: list[PolicyRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _feeds_name_sections(self) -> "Config":
        names = {s.name for s in self.sections}
        if self.sections:
            for i, f in enumerate(self.feeds):
                if f.section not in names:
                    raise ValueError(
                        f"feeds[{i}].section: {f.section!r} is not a configured section "
                        f"(known: {', '.join(sorted(names))})"
                    )
        return self

    def ordered_sections(self) -> list[Section]:
        return sorted(self.sections, key=lambda s: (s.order, self.sections.index(s)))

    def section(self, name: str) -> Section | None:
        return next((s for s in self.sections if s.name == name), None)


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def parse_config(text: str, source: str = "newsdesk.toml") -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: invalid TOML: {e}") from None
    try:
        return Config.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        msg = first["msg"].removeprefix("Value error, ")
        more = f" (+{e.error_count() - 1} more)" if e.error_count() > 1 else ""
        where = f"{_loc(first['loc'])}: " if first["loc"] else ""
        raise ConfigError(f"{source}: {where}{msg}{more}") from None


def load_config(path: Path) -> Config:
    if not path.exists():
        raise ConfigError(f"{path}: no config file; run 'newsdesk init' first")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read: {e}") from None
    return parse_config(text, str(path))


# --- starter config written by `newsdesk init` ------------------------------

STARTER_SECTIONS: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("Weather", "🧾", []),
    ("International News", "🌍", [
        ("BBC News — World", "https://feeds.bbci.co.uk/news/world/rss.xml"),
        ("Al Jazeera", "https://www.aljazeera.com/xml/rss/all.xml"),
        ("UN News", "https://news.un.org/feed/subscribe/en/news/all/rss.xml"),
    ]),
    ("Canadian News", "🍁", [
        ("CBC News — Canada", "https://www.cbc.ca/webfeed/rss/rss-canada"),
        ("Global News — Canada", "https://globalnews.ca/canada/feed/"),
    ]),
    ("U.S. Top Stories", "🇺🇸", [
        ("NPR News", "https://feeds.npr.org/1001/rss.xml"),
        ("PBS NewsHour", "https://www.pbs.org/newshour/feeds/rss/headlines"),
    ]),
    ("Artificial Intelligence", "🧠", [
        ("MIT Technology Review — AI", "https://www.technologyreview.com/topic/artificial-intelligence/feed"),
        ("Google — AI", "https://blog.google/technology/ai/rss/"),
    ]),
    ("Digital Strategy", "💻", [
        ("The Register", "https://www.theregister.com/headlines.atom"),
        ("GDS blog", "https://gds.blog.gov.uk/feed/"),
    ]),
    ("Public Health", "🏥", [
        ("WHO news", "https://www.who.int/rss-feeds/news-english.xml"),
        ("CDC newsroom", "https://tools.cdc.gov/api/v2/resources/media/132608.rss"),
    ]),
    ("Science", "🔬", [
        ("Nature", "https://www.nature.com/nature.rss"),
        ("PLOS ONE", "https://journals.plos.org/plosone/feed/atom"),
        ("ScienceDaily", "https://www.sciencedaily.com/rss/all.xml"),
    ]),
    ("Government & Policy", "🧾", [
        ("GOV.UK announcements", "https://www.gov.uk/government/announcements.atom"),
        ("Government of Canada news", "https://api.io.canada.ca/io-server/gc/news/en/v2?sort=publishedDate&orderBy=desc&publishedDate%3E=2021-07-23&pick=50&format=atom&atomtitle=Canada.ca"),
    ]),
    ("Enterprise Architecture & IT Governance", "🏛️", [
        ("InfoQ — Architecture & Design", "https://feed.infoq.com/architecture-design/"),
        ("CIO", "https://www.cio.com/feed/"),
    ]),
    ("AI & Emerging Tech", "🤖", [
        ("MIT Technology Review", "https://www.technologyreview.com/feed/"),
        ("Ars Technica", "https://feeds.arstechnica.com/arstechnica/index"),
    ]),
    ("Cybersecurity & Privacy", "🔒", [
        ("Krebs on Security", "https://krebsonsecurity.com/feed/"),
        ("Schneier on Security", "https://www.schneier.com/feed/atom/"),
        ("The Hacker News", "https://feeds.feedburner.com/TheHackersNews"),
    ]),
    ("University AI", "🎓", [
        ("MIT News — AI", "https://news.mit.edu/rss/topic/artificial-intelligence2"),
        ("Berkeley AI Research", "https://bair.berkeley.edu/blog/feed.xml"),
        ("CMU ML blog", "https://blog.ml.cmu.edu/feed/"),
    ]),
    ("Corporate AI", "🏢", [
        ("AWS Machine Learning blog", "https://aws.amazon.com/blogs/machine-learning/feed/"),
        ("Microsoft AI blog", "https://blogs.microsoft.com/ai/feed/"),
        ("NVIDIA blog", "https://blogs.nvidia.com/feed/"),
    ]),
]

# Environment Canada city page feed for Pembroke, Ontario.
PEMBROKE_WEATHER_URL = "https://weather.gc.ca/rss/city/on-121_e.xml"


def toml_string(s: str) -> str:
    """A TOML basic string literal."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def starter_config_text() -> str:
    lines = [
        "# newsdesk configuration. Reference: docs/CONFIG.md",
        "",
        "[briefing]",
        'timezone = "America/Toronto"',
        'lookback = "24h"          # window used with --since or on the first run',
        "per_section_cap = 5",
        'tags = ["briefing", "ai", "publichealth", "digitalgov"]',
        "word_budget = 1500        # whole briefing",
        "summary_words = 60        # per story",
        "boost = []                # keywords that rank a story higher",
        "mute = []                 # keywords that drop a story",
        "",
        "[weather]",
        'location = "Pembroke, Ontario"',
        'section = "Weather"',
        'provider = "environment-canada"',
        f"url = {toml_string(PEMBROKE_WEATHER_URL)}",
        "",
        "[fetch]",
        "concurrency = 8",
        "timeout = 20",
        "max_bytes = 10485760",
        "",
        "[llm]",
        'backend = "none"          # or "openai" (any OpenAI-compatible server) / "sagemaker"',
        "",
    ]
    lines += sections_and_feeds_toml(STARTER_SECTIONS)
    return "\n".join(lines)


def sections_and_feeds_toml(sections: list[tuple[str, str, list[tuple[str, str]]]]) -> list[str]:
    """``[[sections]]`` (in the given order) then ``[[feeds]]`` blocks, as TOML lines.

    ``sections`` is a list of ``(name, emoji, [(feed title, feed url), ...])``, the shape of
    :data:`STARTER_SECTIONS`; the demo config reuses it with ``file://`` feeds.
    """
    lines: list[str] = []
    for order, (name, emoji, _feeds) in enumerate(sections, start=1):
        lines += ["[[sections]]", f"name = {toml_string(name)}", f"emoji = {toml_string(emoji)}", f"order = {order}", ""]
    for name, _emoji, feeds in sections:
        for title, url in feeds:
            lines += ["[[feeds]]", f"url = {toml_string(url)}", f"section = {toml_string(name)}", f"title = {toml_string(title)}", ""]
    return lines
