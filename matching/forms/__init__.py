"""The forms of matching's pages, one module per module of ``matching/views/``. They check
shapes and read what people type; the services check the rules."""
