"""The production settings, for a benchmark that talks plain HTTP to gunicorn on loopback.

Two differences, neither of which changes what a measured request costs:

- the cookies are not marked Secure: with no TLS proxy in front, a client (locust's requests) would not send a Secure
  session or CSRF cookie back over http://, and every request would be anonymous. SECURE_SSL_REDIRECT is turned off
  from the environment (SECURE_SSL_REDIRECT=false), as production.py allows;
- static files are collected with Django's ManifestStaticFilesStorage rather than WhiteNoise's compressed variant,
  and without the `sourceMappingURL` rewrite: pages get the same hashed URLs from the same manifest, but collectstatic
  takes seconds instead of minutes (the benchmark requests no static file, so their gzip/brotli copies would only
  cost time), and a vendored script whose .map file is not shipped does not stop the run."""

from config.settings.production import *  # noqa: F403

SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "bench.web.storage.StaticFilesStorage"}}  # noqa: F405
