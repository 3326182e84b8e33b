"""Supervision of housing pre-sale funds (商品房预售资金监管)."""

__version__ = "0.1.0"
