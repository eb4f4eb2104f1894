//! Drift: what the IdP says should be in Identity Center (its provisioning scope: the users and
//! groups assigned to the AWS IAM Identity Center app, expanded: [`crate::scope::IdpScope`]) against
//! what is there.
//!
//! Matching: an Identity Center object is the IdP object whose id is its external id (that is
//! what SCIM provisioning writes). Nothing is matched by name: a hand-made user that happens to
//! carry an IdP user's name is not that user — it is the likely reason the IdP user is missing
//! (SCIM cannot create a second user with the same user name).

use std::borrow::Cow;

use rustc_hash::FxHashMap as HashMap;

use serde::{Deserialize, Serialize};

use crate::scope::{IdpScope, ScopeUser};
use crate::snapshot::{Origin, Snapshot, User, UserStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attribute {
    UserName,
    DisplayName,
    Email,
    Status,
}

/// One difference, with what is needed to show it and link to the objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Drift {
    /// In scope, not in Identity Center. `blocked_by`: an Identity Center user without this
    /// external id that already holds the user name (SCIM cannot create it then).
    MissingUser {
        idp_id: String,
        user_name: String,
        blocked_by: Option<String>,
    },
    MissingGroup {
        idp_id: String,
        display_name: String,
        blocked_by: Option<String>,
    },
    /// In Identity Center, not in scope: a provisioned object left behind (a leaver, or removed
    /// from the app's assignment) or one created by hand.
    OrphanUser {
        user_id: String,
        user_name: String,
        origin: Origin,
    },
    OrphanGroup {
        group_id: String,
        display_name: String,
        origin: Origin,
    },
    /// A mapped attribute differs. `case_only`: equal but for letter case (email case drift).
    UserMismatch {
        user_id: String,
        idp_id: String,
        attribute: Attribute,
        idp: String,
        identity_center: String,
        case_only: bool,
    },
    GroupMismatch {
        group_id: String,
        idp_id: String,
        idp: String,
        identity_center: String,
    },
    /// The IdP group has the member; the Identity Center group does not.
    MissingMembership { group_id: String, user_id: String },
    /// The Identity Center group has a member the IdP group does not.
    ExtraMembership { group_id: String, user_id: String },
    /// Two or more Identity Center users whose emails differ only in letter case.
    EmailCaseTwins {
        email: String,
        user_ids: Vec<String>,
    },
}

/// The kinds of drift, in the order the Drift page lists them: (stored tag, heading).
pub const KINDS: &[(&str, &str)] = &[
    ("missing_user", "Users in scope, missing in Identity Center"),
    (
        "missing_group",
        "Groups in scope, missing in Identity Center",
    ),
    ("orphan_user", "Users in Identity Center, not in scope"),
    ("orphan_group", "Groups in Identity Center, not in scope"),
    ("user_mismatch", "User attributes that differ"),
    ("group_mismatch", "Group names that differ"),
    (
        "missing_membership",
        "Memberships missing in Identity Center",
    ),
    ("extra_membership", "Memberships only in Identity Center"),
    ("email_case_twins", "Emails that differ only in letter case"),
];

impl Drift {
    /// The finding's kind, as stored and as listed in [`KINDS`].
    pub fn kind(&self) -> &'static str {
        match self {
            Drift::MissingUser { .. } => "missing_user",
            Drift::MissingGroup { .. } => "missing_group",
            Drift::OrphanUser { .. } => "orphan_user",
            Drift::OrphanGroup { .. } => "orphan_group",
            Drift::UserMismatch { .. } => "user_mismatch",
            Drift::GroupMismatch { .. } => "group_mismatch",
            Drift::MissingMembership { .. } => "missing_membership",
            Drift::ExtraMembership { .. } => "extra_membership",
            Drift::EmailCaseTwins { .. } => "email_case_twins",
        }
    }

    /// The likely cause and what to do, in the words of the IdP → Identity Center setup.
    pub fn likely_cause(&self) -> &'static str {
        match self {
            Drift::MissingUser {
                blocked_by: Some(_),
                ..
            }
            | Drift::MissingGroup {
                blocked_by: Some(_),
                ..
            } => {
                "An Identity Center object created by hand already holds this name, so SCIM cannot create the IdP's: delete or rename the hand-made one, then restart provisioning."
            }
            Drift::MissingUser { .. } | Drift::MissingGroup { .. } => {
                "Not provisioned yet (the next provisioning cycle carries it, about every 40 minutes in Entra) or the IdP's provisioning failed for it: check the provisioning logs for this object."
            }
            Drift::OrphanUser {
                origin: Origin::HandMade,
                ..
            }
            | Drift::OrphanGroup {
                origin: Origin::HandMade,
                ..
            } => {
                "Created by hand in Identity Center (no external id): the IdP does not manage it. Delete it, or assign its IdP counterpart to the app so provisioning takes it over."
            }
            Drift::OrphanUser { .. } | Drift::OrphanGroup { .. } => {
                "Provisioned once, no longer in the app's scope (a leaver, or removed from the app's assignment): SCIM disables or deletes it on the next cycle; if it stays, remove it in Identity Center."
            }
            Drift::UserMismatch {
                case_only: true, ..
            } => {
                "The values differ only in letter case: Identity Center keeps the case it was first given. Align the IdP's value or update the user in Identity Center."
            }
            Drift::UserMismatch {
                attribute: Attribute::Status,
                ..
            } => {
                "The account was enabled or disabled in the IdP after its last provisioning: the next cycle carries it; if not, check the attribute mapping of the account status."
            }
            Drift::UserMismatch { .. } | Drift::GroupMismatch { .. } => {
                "Changed in the IdP after the last provisioning cycle, or the attribute mapping sends another value: wait one cycle, then check the app's attribute mappings."
            }
            Drift::MissingMembership { .. } => {
                "Added to the group in the IdP after the last provisioning cycle, or the user is not in the app's scope: wait one cycle, then check the user is assigned."
            }
            Drift::ExtraMembership { .. } => {
                "Removed in the IdP and not yet carried over, or added by hand in Identity Center: the next cycle removes a provisioned membership; remove a hand-made one yourself."
            }
            Drift::EmailCaseTwins { .. } => {
                "Two accounts for one mailbox: usually a hand-made user beside a provisioned one. Keep the provisioned one and delete the other."
            }
        }
    }
}

fn status_text(status: UserStatus) -> &'static str {
    match status {
        UserStatus::Enabled => "enabled",
        UserStatus::Disabled => "disabled",
    }
}

fn compare(
    out: &mut Vec<Drift>,
    user: &User,
    scope: &ScopeUser,
    attribute: Attribute,
    idp: &str,
    ic: &str,
) {
    if idp != ic {
        out.push(Drift::UserMismatch {
            user_id: user.id.clone(),
            idp_id: scope.idp_id.clone(),
            attribute,
            idp: idp.to_string(),
            identity_center: ic.to_string(),
            case_only: idp.eq_ignore_ascii_case(ic) || idp.to_lowercase() == ic.to_lowercase(),
        });
    }
}

/// Every difference between the IdP's scope and the snapshot, in a stable order: missing,
/// orphans, mismatches, memberships, case twins.
pub fn drift(ic: &Snapshot, scope: &IdpScope) -> Vec<Drift> {
    let mut out = Vec::new();

    // Identity Center objects by external id; by lower-cased user name / display name.
    let ic_user_by_external: HashMap<&str, u32> = ic
        .users()
        .iter()
        .enumerate()
        .filter_map(|(i, u)| u.external_id.as_deref().map(|e| (e, i as u32)))
        .collect();
    // Only needed to explain a missing user, so built on first need.
    let mut ic_user_by_name: Option<HashMap<String, u32>> = None;
    let ic_group_by_external: HashMap<&str, u32> = ic
        .groups()
        .iter()
        .enumerate()
        .filter_map(|(i, g)| g.external_id.as_deref().map(|e| (e, i as u32)))
        .collect();
    let ic_group_by_name: HashMap<&str, u32> = ic
        .groups()
        .iter()
        .enumerate()
        .map(|(i, g)| (g.display_name.as_str(), i as u32))
        .collect();

    // Users.
    let mut matched_users = vec![false; ic.users().len()];
    // Scope user position → Identity Center user position, for membership comparison.
    let mut user_match: Vec<Option<u32>> = vec![None; scope.users.len()];
    let mut mismatches = Vec::new();
    for (at, s) in scope.users.iter().enumerate() {
        match ic_user_by_external.get(s.idp_id.as_str()) {
            Some(&u) => {
                matched_users[u as usize] = true;
                user_match[at] = Some(u);
                let user = &ic.users()[u as usize];
                compare(
                    &mut mismatches,
                    user,
                    s,
                    Attribute::UserName,
                    &s.user_name,
                    &user.user_name,
                );
                if let Some(display_name) = &s.display_name {
                    compare(
                        &mut mismatches,
                        user,
                        s,
                        Attribute::DisplayName,
                        display_name,
                        &user.display_name,
                    );
                }
                compare(
                    &mut mismatches,
                    user,
                    s,
                    Attribute::Email,
                    s.email.as_deref().unwrap_or_default(),
                    user.email.as_deref().unwrap_or_default(),
                );
                let idp_status = if s.enabled {
                    UserStatus::Enabled
                } else {
                    UserStatus::Disabled
                };
                compare(
                    &mut mismatches,
                    user,
                    s,
                    Attribute::Status,
                    status_text(idp_status),
                    status_text(user.status),
                );
            }
            None => {
                let by_name = ic_user_by_name.get_or_insert_with(|| {
                    ic.users()
                        .iter()
                        .enumerate()
                        .map(|(i, u)| (u.user_name.to_lowercase(), i as u32))
                        .collect()
                });
                out.push(Drift::MissingUser {
                    idp_id: s.idp_id.clone(),
                    user_name: s.user_name.clone(),
                    blocked_by: by_name
                        .get(&s.user_name.to_lowercase())
                        .map(|&u| ic.users()[u as usize].id.clone()),
                });
            }
        }
    }

    // Groups.
    let mut matched_groups = vec![false; ic.groups().len()];
    let mut group_pairs: Vec<(&crate::scope::ScopeGroup, u32)> = Vec::new();
    for g in &scope.groups {
        match ic_group_by_external.get(g.idp_id.as_str()) {
            Some(&at) => {
                matched_groups[at as usize] = true;
                group_pairs.push((g, at));
                let group = &ic.groups()[at as usize];
                if group.display_name != g.display_name {
                    mismatches.push(Drift::GroupMismatch {
                        group_id: group.id.clone(),
                        idp_id: g.idp_id.clone(),
                        idp: g.display_name.clone(),
                        identity_center: group.display_name.clone(),
                    });
                }
            }
            None => out.push(Drift::MissingGroup {
                idp_id: g.idp_id.clone(),
                display_name: g.display_name.clone(),
                blocked_by: ic_group_by_name
                    .get(g.display_name.as_str())
                    .map(|&at| ic.groups()[at as usize].id.clone()),
            }),
        }
    }

    // Orphans.
    for (u, user) in ic.users().iter().enumerate() {
        if !matched_users[u] {
            out.push(Drift::OrphanUser {
                user_id: user.id.clone(),
                user_name: user.user_name.clone(),
                origin: user.origin(),
            });
        }
    }
    for (at, group) in ic.groups().iter().enumerate() {
        if !matched_groups[at] {
            out.push(Drift::OrphanGroup {
                group_id: group.id.clone(),
                display_name: group.display_name.clone(),
                origin: group.origin(),
            });
        }
    }
    out.append(&mut mismatches);

    // Memberships of matched groups: expected (IdP members that exist in Identity Center)
    // against actual, both as sorted positions walked side by side.
    // In Identity Center's group order, so the findings do not depend on the order the IdP's
    // groups were read in.
    group_pairs.sort_unstable_by_key(|&(_, at)| at);
    let mut expected: Vec<u32> = Vec::new();
    for (g, at) in group_pairs {
        let group_id = &ic.groups()[at as usize].id;
        expected.clear();
        expected.extend(
            g.members
                .iter()
                .filter_map(|&m| user_match.get(m as usize).copied().flatten()),
        );
        expected.sort_unstable();
        expected.dedup();
        let mut actual = ic.member_positions(at).peekable();
        let mut wanted = expected.iter().copied().peekable();
        loop {
            let (kind, u) = match (wanted.peek().copied(), actual.peek().copied()) {
                (None, None) => break,
                (Some(w), Some(a)) if w == a => {
                    wanted.next();
                    actual.next();
                    continue;
                }
                (Some(w), Some(a)) if w < a => (true, wanted.next().unwrap_or(w)),
                (Some(w), None) => (true, wanted.next().unwrap_or(w)),
                (_, Some(a)) => (false, actual.next().unwrap_or(a)),
            };
            let user_id = ic.users()[u as usize].id.clone();
            out.push(if kind {
                Drift::MissingMembership {
                    group_id: group_id.clone(),
                    user_id,
                }
            } else {
                Drift::ExtraMembership {
                    group_id: group_id.clone(),
                    user_id,
                }
            });
        }
    }

    // Emails that differ only in case, across Identity Center users.
    let mut by_email: HashMap<Cow<'_, str>, Vec<&User>> =
        HashMap::with_capacity_and_hasher(ic.users().len(), Default::default());
    for user in ic.users() {
        if let Some(email) = &user.email {
            let key = if email.chars().any(char::is_uppercase) {
                Cow::Owned(email.to_lowercase())
            } else {
                Cow::Borrowed(email.as_str())
            };
            by_email.entry(key).or_default().push(user);
        }
    }
    let mut twins: Vec<Drift> = by_email
        .into_iter()
        .filter(|(_, users)| users.len() > 1 && users.iter().any(|u| u.email != users[0].email))
        .map(|(email, users)| Drift::EmailCaseTwins {
            email: email.into_owned(),
            user_ids: users.iter().map(|u| u.id.clone()).collect(),
        })
        .collect();
    twins.sort_by(|a, b| match (a, b) {
        (Drift::EmailCaseTwins { email: x, .. }, Drift::EmailCaseTwins { email: y, .. }) => {
            x.cmp(y)
        }
        _ => std::cmp::Ordering::Equal,
    });
    out.append(&mut twins);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::scope::ScopeGroup;
    use crate::scope::tests::scope_user;
    use crate::snapshot::tests::{group, user};

    #[test]
    fn a_provisioned_directory_in_step_with_its_scope_has_no_drift() {
        let ic = Snapshot::build(
            vec![user("u1", "ann"), user("u2", "bob")],
            vec![group("g1", "devs")],
            [("g1", "u1"), ("g1", "u2")],
            vec![],
        )
        .unwrap();
        let scope = IdpScope {
            users: vec![scope_user("u1", "ann"), scope_user("u2", "bob")],
            groups: vec![ScopeGroup {
                idp_id: "idp-g1".into(),
                display_name: "devs".into(),
                members: vec![0, 1],
            }],
        };
        assert_eq!(drift(&ic, &scope), []);
    }

    #[test]
    fn a_display_name_the_idp_does_not_map_is_not_compared() {
        let mut renamed = user("u1", "ann");
        renamed.display_name = "Ann Example".into();
        let ic = Snapshot::build(vec![renamed], vec![], [], vec![]).unwrap();
        let mut unmapped = scope_user("u1", "ann");
        unmapped.display_name = None;
        let scope = IdpScope {
            users: vec![unmapped.clone()],
            groups: vec![],
        };
        assert_eq!(drift(&ic, &scope), []);
        unmapped.display_name = Some("ann".into());
        let scope = IdpScope {
            users: vec![unmapped],
            groups: vec![],
        };
        assert!(matches!(
            drift(&ic, &scope).as_slice(),
            [Drift::UserMismatch {
                attribute: Attribute::DisplayName,
                ..
            }]
        ));
    }

    #[test]
    fn every_kind_of_drift_is_found_with_its_cause() {
        let mut hand_made = user("h1", "cat");
        hand_made.external_id = None;
        let mut leaver = user("u9", "zed");
        leaver.status = UserStatus::Enabled;
        let mut ann = user("u1", "ann");
        ann.email = Some("Ann@Example.com".into());
        let mut bob = user("u2", "bob");
        bob.status = UserStatus::Enabled;
        let mut twin = user("u3", "ann-console");
        twin.external_id = None;
        twin.email = Some("ann@example.com".into());
        let ic = Snapshot::build(
            vec![ann, bob, hand_made, leaver, twin],
            vec![group("g1", "devs"), group("g2", "old-team")],
            [("g1", "u1"), ("g1", "u9")],
            vec![],
        )
        .unwrap();
        let mut bob_scope = scope_user("u2", "bob");
        bob_scope.enabled = false;
        let scope = IdpScope {
            users: vec![
                scope_user("u1", "ann"),
                bob_scope,
                scope_user("c1", "CAT"),
                scope_user("d1", "dan"),
            ],
            groups: vec![ScopeGroup {
                idp_id: "idp-g1".into(),
                display_name: "developers".into(),
                members: vec![0, 1],
            }],
        };
        let found = drift(&ic, &scope);
        let expect = |d: Drift| assert!(found.contains(&d), "{d:?} not in {found:#?}");
        expect(Drift::MissingUser {
            idp_id: "idp-c1".into(),
            user_name: "CAT".into(),
            blocked_by: Some("h1".into()),
        });
        expect(Drift::MissingUser {
            idp_id: "idp-d1".into(),
            user_name: "dan".into(),
            blocked_by: None,
        });
        expect(Drift::OrphanUser {
            user_id: "u9".into(),
            user_name: "zed".into(),
            origin: Origin::Provisioned,
        });
        expect(Drift::OrphanUser {
            user_id: "h1".into(),
            user_name: "cat".into(),
            origin: Origin::HandMade,
        });
        expect(Drift::OrphanGroup {
            group_id: "g2".into(),
            display_name: "old-team".into(),
            origin: Origin::Provisioned,
        });
        expect(Drift::UserMismatch {
            user_id: "u1".into(),
            idp_id: "idp-u1".into(),
            attribute: Attribute::Email,
            idp: "ann@example.com".into(),
            identity_center: "Ann@Example.com".into(),
            case_only: true,
        });
        expect(Drift::UserMismatch {
            user_id: "u2".into(),
            idp_id: "idp-u2".into(),
            attribute: Attribute::Status,
            idp: "disabled".into(),
            identity_center: "enabled".into(),
            case_only: false,
        });
        expect(Drift::GroupMismatch {
            group_id: "g1".into(),
            idp_id: "idp-g1".into(),
            idp: "developers".into(),
            identity_center: "devs".into(),
        });
        expect(Drift::MissingMembership {
            group_id: "g1".into(),
            user_id: "u2".into(),
        });
        expect(Drift::ExtraMembership {
            group_id: "g1".into(),
            user_id: "u9".into(),
        });
        expect(Drift::EmailCaseTwins {
            email: "ann@example.com".into(),
            user_ids: vec!["u1".into(), "u3".into()],
        });
        assert_eq!(found.len(), 12, "{found:#?}");
    }

    #[test]
    fn each_kind_is_listed_under_its_stored_tag_with_a_cause() {
        let all = [
            Drift::MissingUser {
                idp_id: "i".into(),
                user_name: "a".into(),
                blocked_by: None,
            },
            Drift::MissingGroup {
                idp_id: "i".into(),
                display_name: "g".into(),
                blocked_by: Some("g1".into()),
            },
            Drift::OrphanUser {
                user_id: "u".into(),
                user_name: "a".into(),
                origin: Origin::HandMade,
            },
            Drift::OrphanGroup {
                group_id: "g".into(),
                display_name: "g".into(),
                origin: Origin::Provisioned,
            },
            Drift::UserMismatch {
                user_id: "u".into(),
                idp_id: "i".into(),
                attribute: Attribute::Email,
                idp: "A@x".into(),
                identity_center: "a@x".into(),
                case_only: true,
            },
            Drift::GroupMismatch {
                group_id: "g".into(),
                idp_id: "i".into(),
                idp: "a".into(),
                identity_center: "b".into(),
            },
            Drift::MissingMembership {
                group_id: "g".into(),
                user_id: "u".into(),
            },
            Drift::ExtraMembership {
                group_id: "g".into(),
                user_id: "u".into(),
            },
            Drift::EmailCaseTwins {
                email: "a@x".into(),
                user_ids: vec!["u".into(), "v".into()],
            },
        ];
        assert_eq!(all.len(), KINDS.len());
        for (d, (tag, _)) in all.iter().zip(KINDS) {
            assert_eq!(d.kind(), *tag);
            let json = serde_json::to_value(d).unwrap();
            assert_eq!(json["kind"], *tag, "the stored tag is the serde tag");
            assert!(!d.likely_cause().is_empty());
        }
        // A blocked missing user names the hand-made holder of its name, not a slow cycle.
        let blocked = Drift::MissingUser {
            idp_id: "i".into(),
            user_name: "a".into(),
            blocked_by: Some("u".into()),
        };
        assert!(blocked.likely_cause().contains("by hand"));
        assert!(all[0].likely_cause().contains("cycle"));
    }
}
