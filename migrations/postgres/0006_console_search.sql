-- Search as you type is a prefix range over lower-cased copies (>= q AND < q || U+10FFFF),
-- compared in the "C" collation so the range is bytewise whatever the database's collation;
-- these indexes answer it. The user list also sorts by when a user was first seen.
CREATE INDEX ic_users_user_name_c ON ic_users ((user_name_lower COLLATE "C"));
CREATE INDEX ic_users_display_name_c ON ic_users ((display_name_lower COLLATE "C"));
CREATE INDEX ic_users_email_c ON ic_users ((email_lower COLLATE "C"));
CREATE INDEX ic_groups_display_name_c ON ic_groups ((display_name_lower COLLATE "C"));
CREATE INDEX ic_users_first_seen ON ic_users (first_seen);
