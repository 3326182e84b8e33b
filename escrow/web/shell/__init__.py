"""What every page shares: sessions, permissions, rendering, errors, languages, filters, uploads."""
