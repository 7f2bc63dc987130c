"""Versioned prompt templates, their registry and the data-fence convention."""

from copyloom.prompts.fence import DataFence, sanitize_untrusted
from copyloom.prompts.registry import (
    PromptMessage,
    PromptTemplate,
    RenderedPrompt,
    available_prompts,
    get_prompt,
    render_chat,
)

__all__ = [
    "DataFence",
    "PromptMessage",
    "PromptTemplate",
    "RenderedPrompt",
    "available_prompts",
    "get_prompt",
    "render_chat",
    "sanitize_untrusted",
]
