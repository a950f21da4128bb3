"""Cross-cutting pieces of the API: token security, HTTP caching helpers, error handlers."""
