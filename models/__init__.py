"""Tortoise models, one module per domain; `config.MODEL_MODULES` lists them for the ORM."""

# Docstrings and `#:` comments become SQL comments in the migrations, and
# Tortoise's SQLite migration runner splits DDL on ';': keep semicolons out of them.
