-- A refresh reads the whole directory ('full') or only what decides seats ('focused').
ALTER TABLE ic_refreshes ADD COLUMN kind TEXT NOT NULL DEFAULT 'full';

-- The IdP's provisioning scope as last read completely (each complete read replaces it), the
-- reads themselves, and the drift between the scope and Identity Center computed at that read.
CREATE TABLE idp_reads (
    id          TEXT    PRIMARY KEY,
    -- the Identity Center refresh it ran beside
    refresh_id  TEXT,
    idp         TEXT    NOT NULL,
    started_at  TEXT    NOT NULL,
    finished_at TEXT    NOT NULL,
    -- read | failed | cancelled
    outcome     TEXT    NOT NULL,
    detail      TEXT,
    users       INTEGER NOT NULL DEFAULT 0,
    groups_read INTEGER NOT NULL DEFAULT 0,
    memberships INTEGER NOT NULL DEFAULT 0,
    -- findings, when drift was computed from this read
    drift       INTEGER
);
CREATE INDEX idp_reads_started ON idp_reads (started_at);

CREATE TABLE idp_users (
    idp_id          TEXT    PRIMARY KEY,
    user_name       TEXT    NOT NULL,
    -- NULL when the IdP maps no display name
    display_name    TEXT,
    email           TEXT,
    enabled         INTEGER NOT NULL,
    user_name_lower TEXT    NOT NULL
);
CREATE INDEX idp_users_user_name ON idp_users (user_name_lower);

CREATE TABLE idp_groups (
    idp_id       TEXT    PRIMARY KEY,
    display_name TEXT    NOT NULL,
    members      INTEGER NOT NULL
);

-- One row per finding of domain::drift, in its order.
CREATE TABLE drift (
    seq      INTEGER PRIMARY KEY,
    kind     TEXT    NOT NULL,
    -- the Identity Center user / group and the IdP object it is about, when it names them
    user_id  TEXT,
    group_id TEXT,
    idp_id   TEXT,
    -- the finding as JSON
    finding  TEXT    NOT NULL
);
CREATE INDEX drift_kind ON drift (kind, seq);
CREATE INDEX drift_user ON drift (user_id);
CREATE INDEX drift_group ON drift (group_id);
CREATE INDEX drift_idp ON drift (idp_id);
