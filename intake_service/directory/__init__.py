"""The directory of the direct line: entities, referents, functional mailboxes and notices."""
