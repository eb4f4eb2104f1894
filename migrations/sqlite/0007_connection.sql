-- The connection checklist (issue 7).
--
-- What an admin enters for it: Identity Center's service-provider metadata, the IdP metadata
-- Identity Center was given, and the SCIM connection (endpoint, the token sealed with
-- TESSERA_SECRET_KEY, and when the token was created). One row per name; replaced whole.
CREATE TABLE connection_settings (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Admins' attestations of what no API shows, kept: the latest per check counts.
CREATE TABLE attestations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    check_id    TEXT NOT NULL,
    attested_by TEXT NOT NULL,
    attested_on TEXT NOT NULL,
    note        TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX attestations_by_check ON attestations (check_id, id);

-- The last verification of each check: its outcome (domain::connection::Outcome as JSON).
CREATE TABLE connection_checks (
    check_id    TEXT PRIMARY KEY,
    status      TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    verified_at TEXT NOT NULL
);
