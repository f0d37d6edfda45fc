"""Command-line interface (typer). ``main.py`` builds the app; each module registers one command group."""
