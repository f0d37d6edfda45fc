"""Collect: fetch feeds and documents, parse, clean. Feeds are parsed in ``parse.py``."""
