"""keylink: link an exchange API key to a trading terminal, safely."""

__version__ = "0.1.0"
