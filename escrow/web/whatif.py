"""whatif pages (being built)."""

CONTROLLERS: list = []
