"""The WSGI callable deploy/uwsgi.ini serves: the app behind the listener's fixes.

It is `wsgi.app` without the command-line tools (`create_app(serving=True)`): Flask-Migrate
and Alembic alone would add about 10 MB to every worker.

uWSGI loads it once, in the master, and forks the workers from it (deploy/uwsgi.ini). Every
page the master holds then counts in each worker's resident memory, so before the fork the
master leaves only what the app needs (`settle_before_fork`).
"""

import ctypes
import gc
import sys

from config import ConfigError
from deploy.listener import Listener
from my_app import create_app
from my_app.extensions import db

M_ARENA_MAX = -8  # glibc's mallopt parameter


def settle_before_fork() -> None:
    """Shape this process's memory for workers forked from it (CPython's own advice for
    servers that fork without exec, in the `gc.freeze` documentation).

    - The garbage of loading the app is collected, and the free pages the C allocator holds
      go back to the system, so that no worker inherits them.
    - What is left is frozen: the collector never walks those objects again, so a worker's
      full collections stay short and no longer fault in the code of every extension
      module that owns a few of them (they would count in its resident memory).
    - Every thread allocates from the one malloc arena. CPython allocates under the GIL, so
      an arena per thread buys nothing, and each would keep its own high-water mark of
      freed memory (glibc only; elsewhere this step is skipped).
    """
    gc.collect()
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(M_ARENA_MAX, 1)
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
    gc.freeze()


try:
    flask_app = create_app(serving=True)  # production unless APP_ENV says otherwise
except ConfigError as error:
    sys.exit(f"my_app cannot start: {error}")

app = Listener(flask_app)

try:
    from uwsgidecorators import postfork
except ImportError:  # not under uWSGI
    postfork = None

if postfork is not None:
    settle_before_fork()

    @postfork
    def _own_connections() -> None:
        """Loaded in the master (without `lazy-apps`), each worker starts with an empty pool:
        no database connection opened before the fork is ever shared by two processes."""
        with flask_app.app_context():
            db.engine.dispose(close=False)
