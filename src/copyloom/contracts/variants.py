"""What a generator returns, per channel. Field descriptions are written for the model."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from copyloom.contracts.enums import Channel


class _Content(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def text_fields(self) -> dict[str, str]:
        """Every human-visible string, by field name (what guardrails scan)."""
        out: dict[str, str] = {}
        for name, value in self:
            if isinstance(value, str):
                out[name] = value
            elif isinstance(value, dict):
                out.update({f"{name}.{k}": str(v) for k, v in value.items()})
        return out


class EmailContent(_Content):
    channel: Literal["email"] = "email"
    subject: str = Field(
        description="Subject line, at most 50 columns (50 Latin or 25 Chinese characters), honest: no fake "
        "RE:/FWD:, no false urgency."
    )
    preheader: str = Field(
        description="Preview text shown after the subject, 50-85 columns (a Chinese character takes two)."
    )
    body: str = Field(description="Plain-text body with one clear call to action; no footer (added later).")
    cta_text: str = Field(description="Button label, at most 20 columns (20 Latin or 10 Chinese characters).")


class SmsContent(_Content):
    channel: Literal["sms"] = "sms"
    text: str = Field(
        description="The whole SMS including the brand name and the opt-out text; "
        "at most 2 segments; plain ASCII punctuation (no curly quotes) where the language allows."
    )


class PushContent(_Content):
    channel: Literal["push"] = "push"
    title: str = Field(description="At most 40 columns: 40 Latin or 20 Chinese characters.")
    body: str = Field(description="At most 130 columns: 130 Latin or 65 Chinese characters.")


class InAppContent(_Content):
    channel: Literal["in_app"] = "in_app"
    title: str = Field(description="At most 40 columns: 40 Latin or 20 Chinese characters.")
    body: str = Field(description="At most 140 columns: 140 Latin or 70 Chinese characters.")
    cta_text: str = Field(description="At most 20 columns: 20 Latin or 10 Chinese characters.")


class WhatsAppContent(_Content):
    channel: Literal["whatsapp"] = "whatsapp"
    text: str = Field(default="", description="Free-form message (only inside the 24-hour service window).")
    template_name: str | None = Field(default=None, description="Approved template name, outside the window.")
    template_variables: dict[str, str] = Field(
        default_factory=dict, description="Values for the approved template's placeholders."
    )


class WebContent(_Content):
    channel: Literal["web"] = "web"
    headline: str = Field(description="At most 40 columns: 40 Latin or 20 Chinese characters.")
    subhead: str = Field(description="At most 140 columns: 140 Latin or 70 Chinese characters.")
    cta_text: str = Field(description="At most 20 columns: 20 Latin or 10 Chinese characters.")


ChannelContent = Annotated[
    EmailContent | SmsContent | PushContent | InAppContent | WhatsAppContent | WebContent,
    Field(discriminator="channel"),
]

CONTENT_MODELS: dict[Channel, type[_Content]] = {
    Channel.EMAIL: EmailContent,
    Channel.SMS: SmsContent,
    Channel.PUSH: PushContent,
    Channel.IN_APP: InAppContent,
    Channel.WHATSAPP: WhatsAppContent,
    Channel.WEB: WebContent,
}


class Variant(BaseModel):
    """One variant of a message for one channel."""

    model_config = ConfigDict(extra="forbid")

    angle: str = Field(
        description="The variant's distinct angle in a few words, e.g. 'new arrivals', 'loyalty thanks'."
    )
    fact_ids: list[str] = Field(description="Ids of the facts this variant uses; only ids given in the facts block.")
    content: ChannelContent
    # Set by the generator, never asked of a model: why this variant says what it says (e.g. why two products
    # are paired). Stored with the draft in ``generator.notes``.
    notes: list[str] = Field(default_factory=list)
