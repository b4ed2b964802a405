"""Baseline (a) for bench/intake_throughput.py: a bare Flask endpoint answering 202.

Reads the JSON body and answers 202: no validation, no database, no broker.
Served by gunicorn with the same settings as the service.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/api/v1/incidents")
    def submit() -> Any:
        sheet = request.get_json()
        return {"accepted": True, "operator_reference": sheet["operator_reference"]}, 202

    return app
