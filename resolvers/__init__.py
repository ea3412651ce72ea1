"""The rules: plain async functions, one module per domain, returning schema types."""
