"""projects pages (being built)."""

CONTROLLERS: list = []
