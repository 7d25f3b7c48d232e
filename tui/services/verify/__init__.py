"""The check: signed calls to the exchange, the audit of what the key may do."""
