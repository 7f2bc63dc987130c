"""copyloom.contracts: small shared types every layer may use (facts, variants, text, SMS segments, tokens)."""
