"""refunds pages (being built)."""

CONTROLLERS: list = []
