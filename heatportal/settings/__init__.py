"""Settings package: ``base`` holds everything, read from the environment; ``production``
and ``test`` only tighten or adjust it. ``DJANGO_SETTINGS_MODULE`` picks one."""
