# 竞答 under gunicorn: one process per port, one gevent worker in it.
#
#   PROXY_COUNT=1 DATABASE_URL=postgresql+psycopg://... REDIS_URL=redis://127.0.0.1:6379/0 \
#       gunicorn -c deploy/gunicorn.conf.py -b 127.0.0.1:5001 contest.wsgi:app
#
# Start one such command per port listed in deploy/nginx.conf (5001, 5002, ...), e.g. from a
# systemd template unit. More workers in one gunicorn would break Socket.IO's long-polling:
# nginx's ip_hash pins a client to a port, not to a worker behind it.

import os

bind = os.environ.get("BIND", "127.0.0.1:5001")
worker_class = "gevent"          # websockets through simple-websocket, as `contest serve` does
workers = 1
worker_connections = 5000        # phones, long-polls and open websockets of one process
keepalive = 75                   # nginx keeps upstream connections open (keepalive 128)
timeout = 60
graceful_timeout = 20
accesslog = None                 # at thousands of requests a second the log costs more than an answer
errorlog = "-"
