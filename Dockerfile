# The service's image: the API (gunicorn) and every worker run from it.

# The pages' front-end packages, from the npm registry (package-lock.json): vendored
# into the static files at build, never loaded from a CDN at run time.
FROM node:20-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    INSTANCE_PATH=/var/lib/intake COMMUNES_CACHE_DIR=/var/lib/intake

# DejaVu: the PDF exports embed a Unicode font (French needs more than Latin-1).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY requirements ./requirements
COPY intake_service ./intake_service
COPY schemas ./schemas
COPY workers ./workers
COPY deploy ./deploy
COPY --from=assets /assets/node_modules ./node_modules
RUN python deploy/vendor_assets.py && rm -rf node_modules && pip install -c requirements/app.lock . \
    && useradd --system --uid 10001 --home-dir /var/lib/intake --create-home intake

USER intake
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "intake_service:create_app()"]
