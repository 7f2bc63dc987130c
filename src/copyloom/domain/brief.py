"""A marketer's brief: what a message is for."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from copyloom.contracts.enums import Goal


class Brief(BaseModel):
    model_config = ConfigDict(extra="forbid")

    goal: Goal
    instructions: str | None = Field(default=None, max_length=2000, description="Free-text direction for the copy.")
    offer_ids: list[str] = Field(default_factory=list, max_length=20, description="Offers the message must feature.")
    skus: list[str] = Field(default_factory=list, max_length=50, description="Products the message should feature.")

    def query_text(self) -> str:
        """The text searched by meaning for this brief."""
        parts = [self.goal.value.replace("_", " ")]
        if self.instructions:
            parts.append(self.instructions)
        return ". ".join(parts)
