"""The one web layer: Starlette applications served by uvicorn inside the engine's loop.

Every HTTP surface of Bailanys (the supervisors' console today; the
analysts', QA reviewers' and operators' pages, report downloads and
token-authenticated APIs next; the SMS gateway's delivery reports) is a
Starlette application built by :func:`bailanys.web.app.web_app` and served
by :class:`bailanys.web.server.WebServer`:

* ``server.py``   -- uvicorn on the engine's event loop (no threads, no
  processes, no signal handlers): ``start()``/``stop()``, a deadline for the
  request head and body (slowloris), graceful stop;
* ``app.py``      -- the application factory: the answers for unknown paths
  and methods, the body limit, ``Connection: close`` and the security headers;
* ``limits.py``   -- request bodies: ``Content-Length`` only, bounded (411,
  413), and the urlencoded form decoder;
* ``responses.py``-- plain answers (``response``, ``error``, ``redirect``),
  the security headers and the same-origin check;
* ``auth.py``     -- users, scrypt passwords, roles, sessions, the cookie;
* ``access.py``   -- THE session and role check of every page, API and
  websocket (:class:`Access`), and the bearer-token check of machine APIs;
* ``static.py``   -- static files by exact name, read once;
* ``files.py``    -- file downloads (recordings, reports) with HTTP Range.

The HTTP client side (Kannel's sendsms) uses httpx, which comes from the same
people and stack (h11, anyio) as Starlette and uvicorn.
"""
