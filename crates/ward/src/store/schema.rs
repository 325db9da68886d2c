//! The store's schema, as numbered migrations. `PRAGMA user_version` holds the
//! number of migrations applied; each runs once, in order, in a transaction.

/// The migrations, oldest first; never edit one that has shipped, add a new one.
pub const MIGRATIONS: &[&str] = &[
    // 1: events, instances, and small facts.
    "CREATE TABLE events (
        seq     INTEGER PRIMARY KEY,
        ts_ms   INTEGER NOT NULL,
        kind    TEXT NOT NULL,
        service TEXT NOT NULL,
        replica INTEGER NOT NULL,
        json    TEXT NOT NULL
     );
     CREATE TABLE instances (
        service       TEXT NOT NULL,
        replica       INTEGER NOT NULL,
        state         TEXT NOT NULL,
        pid           INTEGER,
        start_time    INTEGER,
        started_ms    INTEGER,
        restarts      INTEGER NOT NULL,
        last_exit     TEXT,
        gate_state    TEXT NOT NULL,
        gate_until_ms INTEGER,
        next_delay_ms INTEGER NOT NULL,
        crashes_ms    TEXT NOT NULL,
        updated_ms    INTEGER NOT NULL,
        PRIMARY KEY (service, replica)
     );
     CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
     );",
    // 2: the last decision about each instance, in words (ward-core's).
    "ALTER TABLE instances ADD COLUMN decision TEXT;",
];
