"""The trading terminals: their server addresses (whitelists)."""
