-- Sign-out everywhere: every session of `subject` (or, for the subject '*', of everyone) signed
-- in at or before `revoked_before` is no longer accepted. One row per subject, moved forward
-- each time.
CREATE TABLE session_revocations (
    subject        TEXT PRIMARY KEY,
    revoked_before TIMESTAMPTZ NOT NULL
);
