"""Test support code, imported by the tests and never collected: a private gnome-keyring
(keyring_daemon), keyring backends that fail on purpose (keyring_faults, keyring_hanging) and the
accounts app's fixtures and keyboard helpers (accounts_fixtures)."""
