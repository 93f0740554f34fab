# syntax=docker/dockerfile:1
# my_app: uWSGI serving the API. Build: docker build -t my_app .

# ---- build: compile wheels (uWSGI needs a C toolchain) ----
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
COPY setup.py ./
COPY my_app ./my_app
COPY config.py blacklist.py redis_client.py wsgi.py ./
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# ---- runtime: slim, no compiler, non-root ----
FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    APP_ENV=production \
    UWSGI_SOCKET=0.0.0.0:3031 \
    UWSGI_HTTP=0.0.0.0:8000 \
    RUN_JOBS=uwsgi
RUN groupadd --system --gid 10001 my_app \
    && useradd --system --uid 10001 --gid my_app --home-dir /app my_app
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/* && rm -rf /wheels
# The code stays root-owned: the app user can read it, not change it.
COPY . .
RUN install -d -o 10001 -g 10001 /app/instance
USER 10001:10001
EXPOSE 8000 3031
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2).status != 200)"]
# Migrations run first (they are idempotent); then uWSGI replaces the shell. With RUN_JOBS=uwsgi
# its master also runs the periodic jobs (deploy/jobs.ini); set RUN_JOBS= to leave them out.
CMD ["sh", "-c", "flask --app wsgi db upgrade && exec uwsgi --ini deploy/uwsgi.ini"]
