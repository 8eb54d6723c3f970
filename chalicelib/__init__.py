"""Everything deployed to Lambda: the domains and the shared core they stand on."""
