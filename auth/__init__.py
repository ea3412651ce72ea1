"""Who is calling: JWTs, API keys, the Starlette backend, permissions and OAuth state."""
