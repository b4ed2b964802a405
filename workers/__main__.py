"""``python -m workers [NAME ...]``: the same as ``intake-service workers``."""

from intake_service.cli import main

if __name__ == "__main__":
    main(["workers", *__import__("sys").argv[1:]])
