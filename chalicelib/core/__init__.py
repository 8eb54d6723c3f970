"""The shared core: what every domain stands on, knowing none of them."""
