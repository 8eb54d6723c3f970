"""Registration's storage, one module per use case: the only code that knows its items' layout.

Other domains never import these: they change a participant through `registration.service`.
"""
