"""The background process: `python -m scheduler` runs the periodic jobs over `core`."""
