"""One module per noun of the ``smartdc`` command line; each exposes its command tree."""
