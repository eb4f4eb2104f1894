-- What the console's pages would otherwise count or join over the million memberships on every
-- request (each user's seat, each group's member count, the overview's counts), kept by each
-- write that changes it, in the same transaction (store/src/figures.rs).

-- The user holds a seat: assigned directly, or a member of an assigned group.
ALTER TABLE ic_users ADD COLUMN seat BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE ic_users SET seat = (EXISTS (SELECT 1 FROM ic_assignments a WHERE a.principal_kind = 'USER'
    AND a.principal_id = ic_users.id) OR EXISTS (SELECT 1 FROM ic_memberships m JOIN ic_assignments a
    ON a.principal_kind = 'GROUP' AND a.principal_id = m.group_id WHERE m.user_id = ic_users.id));
CREATE INDEX ic_users_seat ON ic_users (seat, user_name_lower);

-- The group's members, counted.
ALTER TABLE ic_groups ADD COLUMN members BIGINT NOT NULL DEFAULT 0;
UPDATE ic_groups SET members = (SELECT COUNT(*) FROM ic_memberships m WHERE m.group_id = ic_groups.id);

-- The overview's counts, by name (users, groups, memberships, seat_holders, subscribed_groups,
-- subscribed_users from the snapshot; scope_users, scope_groups, drift from the scope read).
CREATE TABLE figures (
    name  TEXT    PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO figures (name, value)
    SELECT 'users', COUNT(*) FROM ic_users
    UNION ALL SELECT 'groups', COUNT(*) FROM ic_groups
    UNION ALL SELECT 'memberships', COUNT(*) FROM ic_memberships
    UNION ALL SELECT 'seat_holders', COUNT(*) FROM ic_users WHERE seat
    UNION ALL SELECT 'subscribed_groups', COUNT(*) FROM ic_assignments WHERE principal_kind = 'GROUP'
    UNION ALL SELECT 'subscribed_users', COUNT(*) FROM ic_assignments WHERE principal_kind = 'USER'
    UNION ALL SELECT 'scope_users', COUNT(*) FROM idp_users
    UNION ALL SELECT 'scope_groups', COUNT(*) FROM idp_groups
    UNION ALL SELECT 'drift', COUNT(*) FROM drift;
