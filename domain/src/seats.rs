//! Effective seats of the seat product's application (Q Developer's QDefaultProfile): the users
//! assigned directly ∪ the members of assigned groups, each counted once, with every path that
//! gives the seat — and, from history, since when each path has held.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::changes::Changes;
use crate::snapshot::{Assignment, PrincipalKind, Snapshot, User};

/// One way a user holds a seat.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "via", content = "group_id", rename_all = "snake_case")]
pub enum SeatPath {
    /// The user is assigned to the application.
    Direct,
    /// The user is a member of this assigned group.
    Group(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatHolder<'a> {
    pub user: &'a User,
    /// Sorted; `Direct` first.
    pub paths: Vec<SeatPath>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seats<'a> {
    /// Sorted by user id, each user once.
    pub holders: Vec<SeatHolder<'a>>,
    /// Assignments whose principal is not in the snapshot (a deleted user or group; a cancelled
    /// subscription may also leave its assignment behind).
    pub dangling: Vec<&'a Assignment>,
}

/// Expands the snapshot's assignments into seat holders.
pub fn effective_seats(snapshot: &Snapshot) -> Seats<'_> {
    let mut paths: Vec<Vec<SeatPath>> = vec![Vec::new(); snapshot.users().len()];
    let mut dangling = Vec::new();
    for assignment in snapshot.assignments() {
        match assignment.kind {
            PrincipalKind::User => match snapshot.user_position(&assignment.principal_id) {
                Some(u) => paths[u as usize].push(SeatPath::Direct),
                None => dangling.push(assignment),
            },
            PrincipalKind::Group => match snapshot.group_position(&assignment.principal_id) {
                Some(g) => {
                    for u in snapshot.member_positions(g) {
                        paths[u as usize].push(SeatPath::Group(assignment.principal_id.clone()));
                    }
                }
                None => dangling.push(assignment),
            },
        }
    }
    let holders = paths
        .into_iter()
        .enumerate()
        .filter(|(_, p)| !p.is_empty())
        .map(|(u, mut p)| {
            p.sort_unstable();
            SeatHolder {
                user: &snapshot.users()[u],
                paths: p,
            }
        })
        .collect();
    Seats { holders, dangling }
}

/// Since when each current path has held without interruption, from a history of changes in
/// time order (the first entry is the first snapshot's changes from nothing). A group path holds
/// from the later of the group's assignment and the user's membership.
pub fn path_since(
    history: &[(DateTime<Utc>, &Changes)],
) -> HashMap<(String, SeatPath), DateTime<Utc>> {
    let mut assigned: HashMap<&Assignment, DateTime<Utc>> = HashMap::new();
    let mut member: HashMap<(&str, &str), DateTime<Utc>> = HashMap::new();
    for (at, changes) in history {
        for a in &changes.assignments_removed {
            assigned.remove(a);
        }
        for a in &changes.assignments_added {
            assigned.insert(a, *at);
        }
        for (g, u) in &changes.memberships_removed {
            member.remove(&(g.as_str(), u.as_str()));
        }
        for (g, u) in &changes.memberships_added {
            member.insert((g.as_str(), u.as_str()), *at);
        }
        // A removed user or group takes its memberships with it.
        for u in &changes.users_removed {
            member.retain(|(_, user), _| *user != u.id);
        }
        for g in &changes.groups_removed {
            member.retain(|(group, _), _| *group != g.id);
        }
    }
    let mut since = HashMap::new();
    let group_start: HashMap<&str, DateTime<Utc>> = assigned
        .iter()
        .filter(|(a, _)| a.kind == PrincipalKind::Group)
        .map(|(a, t)| (a.principal_id.as_str(), *t))
        .collect();
    for (a, t) in &assigned {
        if a.kind == PrincipalKind::User {
            since.insert((a.principal_id.clone(), SeatPath::Direct), *t);
        }
    }
    for ((g, u), t) in &member {
        if let Some(assigned_at) = group_start.get(g) {
            since.insert(
                ((*u).to_string(), SeatPath::Group((*g).to_string())),
                (*t).max(*assigned_at),
            );
        }
    }
    since
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::changes::diff;
    use crate::snapshot::tests::{group, user};

    fn assignment(kind: PrincipalKind, id: &str) -> Assignment {
        Assignment {
            kind,
            principal_id: id.into(),
        }
    }

    #[test]
    fn holders_are_direct_users_and_members_of_assigned_groups_each_once() {
        let s = Snapshot::build(
            vec![
                user("ann", "ann"),
                user("bob", "bob"),
                user("cat", "cat"),
                user("dan", "dan"),
            ],
            vec![
                group("q1", "q1"),
                group("q2", "q2"),
                group("other", "other"),
            ],
            [
                ("q1", "ann"),
                ("q1", "bob"),
                ("q2", "bob"),
                ("other", "cat"),
            ],
            vec![
                assignment(PrincipalKind::Group, "q1"),
                assignment(PrincipalKind::Group, "q2"),
                assignment(PrincipalKind::User, "bob"),
                assignment(PrincipalKind::User, "dan"),
                assignment(PrincipalKind::User, "deleted-user"),
                assignment(PrincipalKind::Group, "deleted-group"),
            ],
        )
        .unwrap();
        let seats = effective_seats(&s);
        let holders: Vec<(&str, Vec<SeatPath>)> = seats
            .holders
            .iter()
            .map(|h| (h.user.id.as_str(), h.paths.clone()))
            .collect();
        assert_eq!(
            holders,
            [
                ("ann", vec![SeatPath::Group("q1".into())]),
                (
                    "bob",
                    vec![
                        SeatPath::Direct,
                        SeatPath::Group("q1".into()),
                        SeatPath::Group("q2".into())
                    ]
                ),
                ("dan", vec![SeatPath::Direct]),
            ]
        );
        let dangling: Vec<&str> = seats
            .dangling
            .iter()
            .map(|a| a.principal_id.as_str())
            .collect();
        assert_eq!(dangling, ["deleted-user", "deleted-group"]);
    }

    #[test]
    fn a_path_holds_since_the_later_of_assignment_and_membership_and_restarts_after_a_gap() {
        let t = |d: u32| chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 3, d, 9, 0, 0).unwrap();
        let users = || vec![user("ann", "ann"), user("bob", "bob")];
        let s1 = Snapshot::build(users(), vec![group("q", "q")], [("q", "ann")], vec![]).unwrap();
        let s2 = Snapshot::build(
            users(),
            vec![group("q", "q")],
            [("q", "ann"), ("q", "bob")],
            vec![assignment(PrincipalKind::Group, "q")],
        )
        .unwrap();
        let s3 = Snapshot::build(
            users(),
            vec![group("q", "q")],
            [("q", "bob")],
            vec![assignment(PrincipalKind::Group, "q")],
        )
        .unwrap();
        let s4 = s2.clone();
        let changes = [
            diff(&Snapshot::default(), &s1),
            diff(&s1, &s2),
            diff(&s2, &s3),
            diff(&s3, &s4),
        ];
        let history: Vec<(DateTime<Utc>, &Changes)> = vec![
            (t(1), &changes[0]),
            (t(2), &changes[1]),
            (t(3), &changes[2]),
            (t(4), &changes[3]),
        ];
        let since = path_since(&history);
        let q = SeatPath::Group("q".into());
        // ann was a member from day 1, but the group was assigned on day 2; she left on day 3
        // and came back on day 4.
        assert_eq!(since[&("ann".to_string(), q.clone())], t(4));
        assert_eq!(since[&("bob".to_string(), q)], t(2));
    }
}
