# The service's image: the API (gunicorn) and every worker run from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    INSTANCE_PATH=/var/lib/intake COMMUNES_CACHE_DIR=/var/lib/intake

# DejaVu: the PDF exports embed a Unicode font (French needs more than Latin-1).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY intake_service ./intake_service
COPY schemas ./schemas
COPY workers ./workers
COPY deploy ./deploy
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /var/lib/intake --create-home intake

USER intake
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "intake_service:create_app()"]
