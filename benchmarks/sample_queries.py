"""Queries the embedding benchmarks encode: short, typical of what users ask (bokmål and
nynorsk). One list, so the passage/query benchmark and the query-length benchmark time the
same texts.

Imported as `from sample_queries import QUERIES` (benchmarks run as scripts, so this folder is
on `sys.path`, as for eval_data).
"""

from __future__ import annotations

QUERIES = [
    "hvordan søke sykehjemsplass",
    "kva kostar korttidsopphald",
    "legevakt Værnes telefonnummer",
    "rehabilitering etter sykehusopphold",
    "trygghetsalarm for eldre",
    "samarbeidsavtale helseforetak kommune",
]
