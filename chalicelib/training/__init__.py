"""Catalogue, purchases against the training balance, completions, revocation."""
