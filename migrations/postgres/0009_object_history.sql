-- Each applied refresh's changes split by the user or group they touch (domain::timeline), so a
-- user's or group's page reads its own history without replaying every refresh. Written with
-- the history row, in the same transaction; history written before this migration is split by
-- `Store::migrate` on the next start (it fills the refreshes that have no rows here).
CREATE TABLE ic_object_changes (
    kind      TEXT    NOT NULL CHECK (kind IN ('user', 'group')),
    object_id TEXT    NOT NULL,
    seq       BIGINT  NOT NULL REFERENCES ic_history (seq),
    taken_at  TIMESTAMPTZ NOT NULL,
    -- what happened to this object in that refresh (JSON list of domain::timeline::Event)
    events    TEXT    NOT NULL,
    PRIMARY KEY (kind, object_id, seq)
);
CREATE INDEX ic_object_changes_seq ON ic_object_changes (seq);
