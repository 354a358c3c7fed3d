from sync.store import Store


def test_fresh_database_is_migrated_and_wal(db_path):
    with Store(db_path) as store:
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        names = {r[0] for r in store.conn.execute("SELECT name FROM _migrations")}
        assert "001_initial" in names
