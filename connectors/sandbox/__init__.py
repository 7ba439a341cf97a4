"""Faithful local emulators of the vendor APIs firmsync talks to (see DESIGN.md, "Sandbox").

Built from the vendors' published references and never from firmsync's own connectors: nothing here
imports ``connectors`` outside this package, so the emulators cannot share a client's bugs.
Run with ``python -m connectors.sandbox``; build in-process with ``create_app()``.
"""
