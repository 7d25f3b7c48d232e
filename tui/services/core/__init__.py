"""Text, paths, private files, settings: what every part uses."""
