"""Where accounts and secrets live: the accounts file, the secret store, the vault."""
