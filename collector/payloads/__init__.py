"""Request bodies -> domain objects, at the edge. Pure: no I/O, no store, `now` as an argument.

Each parser either returns complete domain objects or raises `BadPayload` with a reason a
client can act on (the handler answers 400 with it): nothing half-parsed ever reaches the store.
"""
