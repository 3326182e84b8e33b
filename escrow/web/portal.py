"""portal pages (being built)."""

CONTROLLERS: list = []
