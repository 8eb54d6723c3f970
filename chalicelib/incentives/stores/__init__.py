"""The incentives domain's storage: the only code that knows its items' layout."""
