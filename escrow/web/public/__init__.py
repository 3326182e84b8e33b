"""The buyer's page: checking a voucher without signing in."""
