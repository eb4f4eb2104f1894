-- Identity Center as last read (the current snapshot), the refreshes that read it, and the
-- changes each applied refresh brought (history). A snapshot at any time since the first refresh
-- is the current one with later changes undone.

CREATE TABLE ic_refreshes (
    id           TEXT    PRIMARY KEY,
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ NOT NULL,
    -- applied | unchanged | held | confirmed | discarded | failed | cancelled
    outcome      TEXT    NOT NULL,
    -- what failed, or why the snapshot is held (the fuse's trip, as JSON)
    detail       TEXT,
    calls        BIGINT NOT NULL DEFAULT 0,
    throttles    BIGINT NOT NULL DEFAULT 0,
    users        BIGINT NOT NULL DEFAULT 0,
    groups_read  BIGINT NOT NULL DEFAULT 0,
    memberships  BIGINT NOT NULL DEFAULT 0,
    -- for a held refresh: the changes it would apply (JSON), kept until confirmed or discarded
    held_changes TEXT
);
CREATE INDEX ic_refreshes_started ON ic_refreshes (started_at);

-- One row per applied refresh, in order: the changes it brought (JSON of domain::changes::Changes).
CREATE TABLE ic_history (
    seq        BIGINT  PRIMARY KEY,
    refresh_id TEXT    NOT NULL REFERENCES ic_refreshes (id),
    taken_at   TIMESTAMPTZ NOT NULL,
    -- the first applied refresh has no previous snapshot: its changes are not stored
    initial    BOOLEAN NOT NULL,
    changes    TEXT,
    users_added         BIGINT NOT NULL,
    users_removed       BIGINT NOT NULL,
    users_changed       BIGINT NOT NULL,
    memberships_added   BIGINT NOT NULL,
    memberships_removed BIGINT NOT NULL
);
CREATE INDEX ic_history_taken ON ic_history (taken_at);

CREATE TABLE ic_users (
    id                 TEXT PRIMARY KEY,
    user_name          TEXT NOT NULL,
    display_name       TEXT NOT NULL,
    given_name         TEXT NOT NULL,
    family_name        TEXT NOT NULL,
    email              TEXT,
    status             TEXT NOT NULL,
    external_id        TEXT,
    -- lower-cased copies for search as you type
    user_name_lower    TEXT NOT NULL,
    display_name_lower TEXT NOT NULL,
    email_lower        TEXT,
    first_seen         TIMESTAMPTZ NOT NULL
);
CREATE INDEX ic_users_user_name ON ic_users (user_name_lower);
CREATE INDEX ic_users_display_name ON ic_users (display_name_lower);
CREATE INDEX ic_users_email ON ic_users (email_lower);
CREATE INDEX ic_users_external ON ic_users (external_id);

CREATE TABLE ic_groups (
    id                 TEXT PRIMARY KEY,
    display_name       TEXT NOT NULL,
    display_name_lower TEXT NOT NULL,
    external_id        TEXT,
    first_seen         TIMESTAMPTZ NOT NULL
);
CREATE INDEX ic_groups_display_name ON ic_groups (display_name_lower);

CREATE TABLE ic_memberships (
    group_id TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    since    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX ic_memberships_user ON ic_memberships (user_id);

CREATE TABLE ic_assignments (
    principal_kind TEXT NOT NULL,
    principal_id   TEXT NOT NULL,
    since          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (principal_kind, principal_id)
);
