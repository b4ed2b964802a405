"""The outbox, the broker's topology and envelope, operators' webhooks, the feed tail."""
