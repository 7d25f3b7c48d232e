"""Handing a stored key to what uses it: clipboard, a child's env, other tools' files."""
