"""`python -m bench.reindex_child BATCH [WORKERS]`: one full reindex in its own process; prints JSON with its peak RSS.

Configured by the environment like the app (DATA_DIR, MEILI_INDEX_PREFIX); it finds the running app's
embedded Meilisearch through the data directory, as `python -m search reindex` does.
"""

import json
import resource
import sys

from core.db import make_engine
from core.settings import get_settings
from search.__main__ import default_workers
from search.client import meili_for_command
from search.layout import indexes_for, shard_servers
from search.reindex import BATCH_SIZE, reindex


def main() -> None:
    settings = get_settings()
    engine = make_engine(settings)
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else default_workers()
    with meili_for_command(settings) as server:
        result = reindex(
            engine=engine,
            indexes=indexes_for(settings, server, shard_servers(settings)),
            batch_size=int(sys.argv[1]) if len(sys.argv) > 1 else BATCH_SIZE,
            workers=workers,
        )
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "workers": workers,
                "seconds": result.seconds,
                "build_seconds": result.build_seconds,
                "documents": result.documents,
                "services": result.services,
                "replayed": result.replayed,
                "shards": result.shards,
                "peak_rss_mb": round(peak_kb / 1024, 1),
                # the largest document-building process, when workers > 1
                "builder_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
