"""dashboard pages (being built)."""

CONTROLLERS: list = []
