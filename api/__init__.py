"""Strawberry over Starlette: the view, its WebSocket handler, limits, documents,
error masking."""
