"""gunicorn settings for the portal in production (`madoguchi serve` passes this file; or
`gunicorn -c portal/gunicorn.conf.py`). Each can be overridden on gunicorn's command line
or in GUNICORN_CMD_ARGS; the portal's own settings stay MADOGUCHI_* (portal/config.py)."""
import os

wsgi_app = "portal:create_app()"   # each worker builds its own app: no connection crosses a fork
bind = os.environ.get("MADOGUCHI_BIND", "127.0.0.1:8000")

# Sync workers: the pages are CPU-bound Python and hold a database connection while they
# run. One or two per core; WEB_CONCURRENCY is the usual knob of hosting platforms.
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 2))
worker_class = "sync"
# A sync worker silent this long is killed and replaced. Certificate PDFs and a city's
# CSV export are the slowest answers and take seconds, not a minute.
timeout = 60
graceful_timeout = 30
# The reverse proxy keeps connections open to reuse them.
keepalive = 5
# Recycle workers now and then so no slow leak grows for weeks; jitter spreads restarts.
max_requests = 5000
max_requests_jitter = 500

# The client's address and scheme come from werkzeug's ProxyFix as configured by
# MADOGUCHI_TRUSTED_PROXIES; gunicorn itself believes no forwarding header, so there is
# one setting for it, not two.
forwarded_allow_ips = ""
# Signals (TERM, HUP, TTIN/TTOU) steer the master; gunicorn's control socket would sit at one
# path per user, shared by every instance on the host.
control_socket_disable = True

# The access log: address (the resident's, through ProxyFix), time, method, the route's
# pattern instead of the path (a path holds a child's, a certificate's or a session's id),
# status, bytes, milliseconds. No query string (search terms are names), no Referer, no
# cookie, no user agent.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %({madoguchi.route}e)s" %(s)s %(B)s %(M)sms'
