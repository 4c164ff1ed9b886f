"""Accounts, login sessions and failed-login counts of the review application, in the catalogue database."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from pipeline.errors import StoreConflictError, StoreError
from pipeline.store.access_tables import LoginFailureRow, SessionRow, UserRow
from pipeline.store.engine import transaction
from schemas.access import Role, SessionInfo, User

# A session's last-seen time is written at most this often: not a write on every page.
_TOUCH_EVERY = timedelta(seconds=60)


def _user(row: UserRow) -> User:
    return User(
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        id_number=row.id_number,
        active=row.active,
        created_at=row.created_at,
    )


class AccountStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- users ----------------------------------------------------------------------------

    def add_user(self, user: User, password_hash: str) -> None:
        try:
            with transaction(self._engine, "add user", write=True) as s:
                s.add(
                    UserRow(
                        username=user.username,
                        display_name=user.display_name,
                        role=user.role.value,
                        password_hash=password_hash,
                        id_number=user.id_number,
                        active=user.active,
                        created_at=user.created_at,
                        updated_at=user.created_at,
                    )
                )
        except StoreError as e:
            if isinstance(e.__cause__, IntegrityError):
                raise StoreConflictError(f"user {user.username!r} exists already; choose another name") from e
            raise

    def get_user(self, username: str) -> User | None:
        with transaction(self._engine, "read user", write=False) as s:
            row = s.get(UserRow, username)
            return _user(row) if row is not None else None

    def password_hash(self, username: str) -> str | None:
        with transaction(self._engine, "read user", write=False) as s:
            return s.scalar(select(UserRow.password_hash).where(UserRow.username == username))

    def users(self) -> list[User]:
        with transaction(self._engine, "list users", write=False) as s:
            return [_user(r) for r in s.scalars(select(UserRow).order_by(UserRow.username))]

    def update_user(
        self,
        username: str,
        now: datetime,
        *,
        active: bool | None = None,
        role: Role | None = None,
        password_hash: str | None = None,
    ) -> User:
        """Change an account; disabling it or changing its role ends its sessions."""
        changes: dict[str, object] = {"updated_at": now}
        if active is not None:
            changes["active"] = active
        if role is not None:
            changes["role"] = role.value
        if password_hash is not None:
            changes["password_hash"] = password_hash
        with transaction(self._engine, "update user", write=True) as s:
            row = s.get(UserRow, username)
            if row is None:
                raise StoreConflictError(f"no user {username!r}; `dangan users list` shows who there is")
            s.execute(update(UserRow).where(UserRow.username == username).values(**changes))
            if active is False or role is not None or password_hash is not None:
                s.execute(delete(SessionRow).where(SessionRow.username == username))
            s.flush()
            s.refresh(row)
            return _user(row)

    # -- sessions -------------------------------------------------------------------------

    def open_session(
        self, token_hash: str, username: str, csrf: str, client: str, now: datetime, ttl: timedelta
    ) -> None:
        with transaction(self._engine, "open session", write=True) as s:
            s.add(
                SessionRow(
                    token_hash=token_hash,
                    username=username,
                    csrf_token=csrf,
                    client=client,
                    created_at=now,
                    last_seen=now,
                    expires_at=now + ttl,
                )
            )

    def session_user(self, token_hash: str, now: datetime, idle: timedelta) -> tuple[User, SessionInfo] | None:
        """The live session's user, or None (unknown, past its absolute expiry, idle too long, account disabled)."""
        with transaction(self._engine, "read session", write=False) as s:
            found = s.execute(
                select(SessionRow, UserRow)
                .join(UserRow, UserRow.username == SessionRow.username)
                .where(SessionRow.token_hash == token_hash)
            ).one_or_none()
        if found is None:
            return None
        sess, user_row = found
        if not user_row.active or now >= sess.expires_at or now - sess.last_seen > idle:
            self.close_session(token_hash)
            return None
        if now - sess.last_seen > _TOUCH_EVERY:
            with transaction(self._engine, "touch session", write=True) as s:
                s.execute(update(SessionRow).where(SessionRow.token_hash == token_hash).values(last_seen=now))
        info = SessionInfo(username=sess.username, csrf_token=sess.csrf_token, expires_at=sess.expires_at)
        return _user(user_row), info

    def close_session(self, token_hash: str) -> None:
        with transaction(self._engine, "close session", write=True) as s:
            s.execute(delete(SessionRow).where(SessionRow.token_hash == token_hash))

    # -- throttling -----------------------------------------------------------------------

    def record_login_failure(self, username: str, client: str, now: datetime) -> None:
        with transaction(self._engine, "record failed login", write=True) as s:
            s.add(LoginFailureRow(username=username, client=client, at=now))

    def login_failures(self, username: str, client: str, since: datetime) -> tuple[int, int]:
        """Failed logins since `since` for this account and from this client address."""
        with transaction(self._engine, "count failed logins", write=False) as s:
            by_user = s.scalar(
                select(func.count()).where(LoginFailureRow.username == username, LoginFailureRow.at >= since)
            )
            by_client = s.scalar(
                select(func.count()).where(LoginFailureRow.client == client, LoginFailureRow.at >= since)
            )
            return int(by_user or 0), int(by_client or 0)

    def clear_login_failures(self, username: str) -> None:
        with transaction(self._engine, "clear failed logins", write=True) as s:
            s.execute(delete(LoginFailureRow).where(LoginFailureRow.username == username))
