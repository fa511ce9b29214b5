"""The conduct app served for real by uvicorn, in a thread of the test process, on a free loopback port."""

from __future__ import annotations

import contextlib
import socket
import threading
import time


@contextlib.contextmanager
def serve(db_url: str, *, secret: str = "test-secret", log_config=None):
    """Serve ``create_app(db_url)`` on 127.0.0.1 (a free port) while the block runs; yields the base URL.
    ``log_config``: uvicorn's logging configuration (its default when None)."""
    import uvicorn

    from adcbridge.conduct.api import create_app
    app = create_app(db_url, secret=secret)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="info", **({} if log_config is None else {"log_config": log_config}))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.025)
        else:
            raise RuntimeError("uvicorn did not start")
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        app.state.engine.dispose()
