# The driver as a container job, e.g. a daily `refresh` (README: Daily operation).
#   docker build -t nba-driver .
#   docker run --rm -e NBA_BQ_PROJECT=my-project -e NBA_BQ_METHOD=service-account \
#     -e NBA_BQ_KEYFILE=/secrets/key.json -v /secure/key.json:/secrets/key.json:ro \
#     nba-driver refresh --days-back 3 --target prod
# The dbt project (models, macros, dbt_project.yml) must sit next to the driver package, so
# the whole repository is copied and installed in editable mode.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DO_NOT_TRACK=1 DBT_SEND_ANONYMOUS_USAGE_STATS=false
WORKDIR /app
COPY . .
RUN pip install -c constraints.txt -e . \
    && useradd --create-home --uid 10001 driver \
    && chown -R driver /app
USER driver

ENTRYPOINT ["python", "-m", "driver"]
CMD ["--help"]
