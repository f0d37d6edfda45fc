"""ask stage."""
