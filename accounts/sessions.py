"""Django's database sessions (SESSION_ENGINE = "accounts.sessions"), each read with one plain SELECT.

Every page a member reads loads their session first. Building the ORM query, fetching and making a
model of it cost ≈ 0.5 ms of CPU where the round trip itself is ≈ 0.15 ms; on a member's page served
from a shared shell (ask.core.shells) that was the largest cost. Same table, same rows, same expiry:
only the read is plainer.
"""
from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        model = self.model
        sql = (f"SELECT session_data FROM {model._meta.db_table} "  # noqa: S608 - the table's own name
               "WHERE session_key = %s AND expire_date > %s")
        with connections[router.db_for_read(model)].cursor() as cursor:
            cursor.execute(sql, [self.session_key, timezone.now()])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return model(session_key=self.session_key, session_data=row[0])
