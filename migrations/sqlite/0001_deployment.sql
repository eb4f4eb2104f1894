-- One row describing this deployment: created on first start, updated on every start.
CREATE TABLE deployment (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    deployment_id   TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    last_started_at TEXT    NOT NULL,
    starts          INTEGER NOT NULL CHECK (starts >= 1),
    last_version    TEXT    NOT NULL
);
