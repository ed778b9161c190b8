"""Test LLM: a scripted LLM server speaking both provider protocols, used by examples and end-to-end
tests so that no network LLM is ever needed.

The seam: `app.store_for_settings(settings)` (or `suites.SuiteStore([dirs...])`) gives the suites;
`app.create_testllm_app(store)` is the ASGI app to mount at `app.MOUNT_PATH` (`/testllm`);
`cli.app` is the `agyn testllm` command group.
"""
