-- The user list sorts by when a user was first seen.
CREATE INDEX ic_users_first_seen ON ic_users (first_seen);
