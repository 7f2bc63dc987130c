"""copyloom: personalized marketing messages that are safe to send."""

__version__ = "0.1.0"
