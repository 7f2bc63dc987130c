"""The model server's settings: given at start (CLI flags or ``--config`` JSON) and changed at run time
(``POST /_config``). Validated with pydantic so that a bad value answers 400 with the field, never a crash."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

__all__ = ["ConfigError", "FaultKind", "FaultRule", "PlantKind", "ServerConfig", "updated"]


class FaultKind(StrEnum):
    """What a scripted fault does instead of a good answer."""

    HTTP_500 = "500"
    HTTP_502 = "502"
    HTTP_503 = "503"
    HTTP_429 = "429"
    HANG = "hang"  # never answers; the client's timeout ends it
    RESET = "reset"  # TCP reset after reading the request
    EMPTY_CHOICES = "empty_choices"  # 200 {"choices": []}
    NO_CHOICES = "no_choices"  # 200 without a "choices" key
    NULL_MESSAGE = "null_message"  # 200 {"choices": [{"message": null}]}
    HTML = "html"  # 200 text/html (a proxy's error page)
    NOT_JSON = "not_json"  # 200 application/json whose body is not JSON
    BAD_ARGUMENTS = "bad_arguments"  # a tool call whose arguments are not valid JSON
    SCHEMA_VIOLATION = "schema_violation"  # a tool call with valid JSON that fails the tool's schema
    TEXT_ONLY = "text_only"  # plain text, no tool call
    JSON_TEXT = "json_text"  # the tool's arguments as a JSON code fence in the text, no tool call (no tool parser)
    REFUSAL = "refusal"  # the model refuses


ToolChoice = Literal["named", "required", "auto"]
TOOL_CHOICES: tuple[ToolChoice, ...] = ("named", "required", "auto")


class PlantKind(StrEnum):
    """A planted error in otherwise good copy: what a hallucinating model gets wrong."""

    PRICE = "price"  # a price that no fact carries
    CODE = "code"  # an invented promo code
    PRODUCT = "product"  # a product name not in the facts (a near miss of one that is)


class FaultRule(BaseModel):
    """Fault the requests whose tool name or prompt contains every ``match`` substring (all when empty).

    ``times`` bounds how many requests it hits (None: no bound); ``probability`` draws per matching request.
    """

    model_config = ConfigDict(extra="forbid")

    match: list[str] = Field(default_factory=list)
    fault: FaultKind
    times: int | None = Field(default=None, ge=0)
    probability: float = Field(default=1.0, ge=0.0, le=1.0)

    @field_validator("match", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if value is None:
            return []
        return [value] if isinstance(value, str) else value


class ServerConfig(BaseModel):
    """Everything that shapes the server's behaviour. All fields can be changed at run time."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    latency_ms: float = Field(default=0.0, ge=0, description="mean latency of an answer")
    latency_jitter: float = Field(
        default=0.0, ge=0, le=3, description="sigma of a lognormal around the mean (0: every answer takes the mean)"
    )
    ms_per_token: float = Field(default=0.0, ge=0, description="extra latency per completion token")
    max_concurrency: int | None = Field(default=None, ge=1, description="429 above this many requests in flight")
    rpm: int | None = Field(default=None, ge=1, description="429 above this many requests in any 60 s")
    tpm: int | None = Field(default=None, ge=1, description="429 above this many prompt tokens in any 60 s")
    retry_after_s: float = Field(default=1.0, gt=0, le=120, description="Retry-After of concurrency and storm 429s")
    storm_s: float = Field(default=0.0, ge=0, description="from now on, answer every request 429 for this long")
    fault_rates: dict[FaultKind, float] = Field(default_factory=dict, description="probability of each fault")
    faults: list[FaultRule] = Field(default_factory=list, description="scripted faults, first matching rule wins")
    plant_rate: float = Field(default=0.0, ge=0, le=1, description="probability of a planted error per variant")
    plant_kinds: list[PlantKind] = Field(default_factory=lambda: list(PlantKind))
    hang_max_s: float = Field(default=600.0, gt=0, description="a hang ends after this even if the client waits")
    seed: int = 0
    models: list[str] = Field(default_factory=lambda: ["gpt-4o-mini", "modelserver-1"])
    tools_supported: bool = Field(
        default=True,
        description="False: a request with tools is a 400 '… does not support tools' (Ollama, for a model without "
        "tool support); a request that gives the tool's schema in a ```json block of its system message is answered "
        "with the arguments as JSON text",
    )
    tool_choices: list[ToolChoice] = Field(
        default_factory=lambda: list(TOOL_CHOICES),
        description='the tool_choice forms accepted (an object naming the tool, "required", "auto" or none); '
        "any other is a 400 'Invalid tool_choice', as llama.cpp's server answers a named one",
    )

    @field_validator("fault_rates")
    @classmethod
    def _rates(cls, value: dict[FaultKind, float]) -> dict[FaultKind, float]:
        if any(not 0 <= p <= 1 for p in value.values()) or sum(value.values()) > 1:
            raise ValueError("each rate is in [0, 1] and together they are at most 1")
        return value

    @model_validator(mode="after")
    def _kinds(self) -> ServerConfig:
        if not self.plant_kinds:
            raise ValueError("plant_kinds needs at least one kind")
        return self


class ConfigError(Exception):
    """A bad option: ``field`` names it, ``message`` says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def updated(config: ServerConfig, changes: Any) -> ServerConfig:
    """A new config with ``changes`` applied (validated as a whole); ``ConfigError`` names the bad field."""
    if not isinstance(changes, dict):
        raise ConfigError("body", "expected a JSON object of options")
    unknown = sorted(set(changes) - set(ServerConfig.model_fields))
    if unknown:
        raise ConfigError(unknown[0], "unknown option")
    try:
        return ServerConfig.model_validate(config.model_dump() | changes)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"]) or "body"
        raise ConfigError(field, err["msg"]) from exc
