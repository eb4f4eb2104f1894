-- Leases that let one replica at a time run a background job (the Identity Center refresh):
-- taken when free or expired, released when the job ends; a replica that dies lets its lease
-- expire.
CREATE TABLE job_leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
