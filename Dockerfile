# Spindle production image: gunicorn (web), Celery worker and Celery beat all run from it
# (see docker-compose.yml). Static files are collected at build time and served by whitenoise.

# --- build: psycopg2 is pinned from source, so it needs a compiler and libpq's headers ---
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev libpq-dev \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install -r /tmp/requirements.txt

# --- runtime: libpq for psycopg2; pango, HarfBuzz subsetting and a font for WeasyPrint's PDFs ---
FROM python:3.11-slim-bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 spindle \
    && useradd --system --uid 10001 --gid spindle --create-home --home-dir /home/spindle spindle

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/app/media \
    WEB_CONCURRENCY=3

COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The code stays owned by root (read-only to the app); only media is the app's to write.
COPY . .
# Dummy SECRET_KEY, DATABASE_URL, REDIS_URL and ALLOWED_HOSTS for this step only: the production
# settings insist on them; collectstatic connects to nothing.
RUN python -m compileall -q . \
    && install -d -o spindle -g spindle /app/media \
    && SECRET_KEY=collectstatic-build-only DATABASE_URL=postgres://build@localhost/build \
       REDIS_URL=redis://localhost:6379/0 ALLOWED_HOSTS=localhost \
       python manage.py collectstatic --noinput

USER spindle
EXPOSE 8000
# Workers: WEB_CONCURRENCY (gunicorn reads it). Behind a TLS proxy that sets X-Forwarded-Proto.
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--timeout", "60", "--graceful-timeout", "30"]
