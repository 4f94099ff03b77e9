"""tipg (developmentseed's OGC Features and Tiles server) on OneMap's database, for the
benchmarks' side-by-side figures. Runs in the benchmark's own environment (bench/peers.py makes
it: tipg is no dependency of OneMap's).

The embedded cluster listens on a Unix socket only, which tipg's URL setting cannot name (it
wants a host): the socket folder and port reach asyncpg as keywords instead. tipg reads as the
database's owner, without OneMap's row-level security and masking — an advantage to the peer
the benchmark's report states.

    python bench/peers/tipg_server.py --socket-dir var/pg/run --port 54329 --listen 8081
"""

from __future__ import annotations

import argparse
import os

import asyncpg
import uvicorn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--socket-dir", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--listen", type=int, default=8081)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()

    create_pool = asyncpg.create_pool

    def on_socket(dsn, **kwargs):
        return create_pool(dsn, host=args.socket_dir, port=args.port, **kwargs)

    asyncpg.create_pool = on_socket  # tipg.database calls asyncpg.create_pool
    os.environ.setdefault("TIPG_DB_SCHEMAS", '["onemap"]')
    uvicorn.run("tipg.main:app", host="127.0.0.1", port=args.listen, workers=args.workers,
                log_level="warning")


if __name__ == "__main__":
    main()
