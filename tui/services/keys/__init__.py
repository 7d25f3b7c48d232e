"""Key material: credentials, key pairs and the checks that read them."""
