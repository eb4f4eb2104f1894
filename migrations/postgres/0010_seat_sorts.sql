-- The user list filtered to seat holders (`seat=yes`) sorts by any of its columns: each sort
-- walks an index from the first page instead of sorting every holder per request (0008 indexed
-- the user name only).
CREATE INDEX ic_users_seat_email ON ic_users (seat, email_lower);
CREATE INDEX ic_users_seat_display_name ON ic_users (seat, display_name_lower);
CREATE INDEX ic_users_seat_first_seen ON ic_users (seat, first_seen);
