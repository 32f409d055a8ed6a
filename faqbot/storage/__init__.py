"""The question log's storage layer: one connection type over two databases.

faqbot keeps its question log, votes, picks, the update inbox and the replicas' coordination in
SQLite (one process, or several on one machine; the default) or PostgreSQL (several replicas on
several machines). The queries are written once (``faqbot.questionlog``, ``faqbot.inbox``,
``faqbot.coordination``), in the SQL both databases understand: ``?`` placeholders,
``ON CONFLICT DO NOTHING``, ``RETURNING``, ``CASE`` for ``MAX``/``GREATEST``. What differs lives
in two small dialect layers behind ``Database`` (``faqbot.storage.base``):

* ``faqbot.storage.sqlite``: aiosqlite; WAL, ``synchronous=FULL``, ``secure_delete``, file
  modes, ``BEGIN IMMEDIATE``, ``PRAGMA user_version``, the WAL checkpoint after a purge;
* ``faqbot.storage.postgres``: psycopg 3 (async); ``?`` becomes ``%s``, a schema version table,
  an advisory lock while migrating, ``FOR UPDATE SKIP LOCKED`` for claims, ``VACUUM`` after a
  purge, reconnecting after the server went away.

The schema's migrations (``faqbot.storage.schema``) run the same way on both; the few DDL
statements that differ (column types, PostgreSQL's explicit ``rowid``) are written out for each.
"""
