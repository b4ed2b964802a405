"""marshmallow schemas of the service: the sheet, the API bodies, the message envelope.

Nothing here does I/O or knows about Flask, the database or the broker.
"""
