"""Operations (issue 21): backups of the stores and retention by age.

``settings.py`` the ``[backup]`` and ``[retention]`` sections; ``backup.py``
SQLite's online backup of every store file, verified; ``retention.py``
what is old enough to go and its deletion in small transactions;
``daily.py`` the next local run time and the owned daily task;
``service.py`` the engine's part; ``commands.py`` ``bailanys backup`` and
``bailanys retention run``.
"""
