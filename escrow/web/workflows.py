"""workflows pages (being built)."""

CONTROLLERS: list = []
