"""Dev-only stand-ins for the outside world: never started in production."""
