"""Training's storage, one module per use case: the only code that knows its items' layout."""
