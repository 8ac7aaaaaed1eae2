"""The PostgreSQL server going away in the middle of a command (stopped, restarted, the network cut):
one line saying so, never a traceback. The real server is reached through a TCP relay on 127.0.0.1
that the test cuts; before, the command died with psycopg's OperationalError traceback ("consuming input
failed: server closed the connection unexpectedly", or "Connection refused" for the next connection)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from pipeline.core.db import open_database, session_scope
from pipeline.core.errors import StoreError


class Relay:
    """Forwards 127.0.0.1:<port> to the PostgreSQL server until :meth:`cut` closes everything."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.sockets = target, []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass

    def cut(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread, so the port is free
        except OSError:
            pass
        self.listener.close()
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            except OSError:
                pass


@pytest.fixture
def relayed(pg_url: str) -> Iterator[tuple[str, Relay]]:
    parts = urlsplit(pg_url)
    relay = Relay((parts.hostname or "127.0.0.1", parts.port or 5432))
    yield pg_url.replace(f"{parts.hostname}:{parts.port}", f"127.0.0.1:{relay.port}"), relay
    relay.cut()


def test_a_connection_dropped_mid_command_is_one_line(relayed) -> None:
    url, relay = relayed
    engine = open_database(url)
    with pytest.raises(StoreError) as caught, session_scope(engine) as session:
        session.execute(sa.text("SELECT 1"))
        relay.cut()
        session.execute(sa.text("SELECT 2"))
    assert str(caught.value) == (f"lost the connection to {url} (the database server went away); nothing of "
                                 "the interrupted write was stored, run the command again when it is back")
    engine.dispose()


def test_a_new_connection_refused_mid_command_is_one_line(relayed) -> None:
    url, relay = relayed
    engine = open_database(url)
    engine.dispose()  # no pooled connection left: the next statement connects anew
    relay.cut()
    with pytest.raises(StoreError) as caught, session_scope(engine) as session:
        session.execute(sa.text("SELECT 1"))
    assert str(caught.value).startswith(f"cannot open database {url}: connection failed: ")
    assert str(caught.value).endswith("; check FUNDRADAR_DB or --db")
