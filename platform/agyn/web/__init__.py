"""The web chat page: a static bundle built from `web/` (npm) and served at `/` by `agyn serve`."""
