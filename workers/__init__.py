"""Background workers: the outbox relay and the consumers. ``python -m workers [NAME ...]``.

Each worker is a small loop with a ``run(stop)`` method that returns when the
``stop`` event is set, between two units of work: SIGTERM never cuts a batch
in half.
"""
