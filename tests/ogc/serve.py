"""Run Parkwacht on 127.0.0.1 (a free port) in a process of its own and print the port: the OGC client tests
start it so that clients living in the test process (GDAL through pyogrio holds the interpreter while it
waits for an answer) never wait on a server that needs that same interpreter.

    python -m tests.ogc.serve sqlite:////path/to/parkwacht.db
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from werkzeug.serving import make_server

from service.app import create_app
from service.config import load_settings


def main(database_url: str) -> None:
    # Beside a SQLite file; a PostGIS database (PARKWACHT_TEST_STORE=postgis) gets a temporary folder.
    folder = (Path(database_url.removeprefix("sqlite:///")).parent if database_url.startswith("sqlite:///")
              else Path(tempfile.mkdtemp(prefix="ogc-serve-")))
    settings = load_settings({}, database_url=database_url, instance_dir=str(folder / "instance"), basemap="none")
    srv = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
    print(srv.server_port, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
