"""Settings package. ``base`` puts the topic modules together (``environment``, ``core``,
``database``, ``auth``, ``storage``, ``api``, one per app, ``workers``), all read from the
environment; ``production`` and ``test`` only tighten or adjust it. ``DJANGO_SETTINGS_MODULE``
picks one."""
