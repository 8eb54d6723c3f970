"""The local stack: a local AWS endpoint, the app over HTTP, and the fakes. Never deployed."""
