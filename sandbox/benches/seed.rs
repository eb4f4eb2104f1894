//! How long the seeded organisations take to build: `cargo bench -p sandbox --bench seed`.
//! Results go to BENCHMARKS.md (a benchmark, not a timed test).

use std::time::Instant;

use sandbox::seed::{Organisation, SeedSpec};

fn main() {
    for spec in [SeedSpec::demo(), SeedSpec::large()] {
        let mut best = f64::MAX;
        let runs = if spec.people > 10_000 { 3 } else { 20 };
        let mut shown = None;
        for _ in 0..runs {
            let started = Instant::now();
            let org = match Organisation::generate(&spec) {
                Ok(org) => org,
                Err(e) => {
                    eprintln!("{}: {e}", spec.name);
                    std::process::exit(1);
                }
            };
            best = best.min(started.elapsed().as_secs_f64());
            shown = Some((
                org.people.len(),
                org.groups.len(),
                org.groups.iter().map(|g| g.members.len()).sum::<usize>(),
                org.identity_center.user_count(),
                org.identity_center.group_count(),
                org.identity_center.membership_count(),
            ));
        }
        if let Some((people, groups, idp_memberships, users, ic_groups, memberships)) = shown {
            println!(
                "seed {:<5}  best of {runs}: {:>8.3} s   IdP: {people} people, {groups} groups, {idp_memberships} memberships   Identity Center: {users} users, {ic_groups} groups, {memberships} memberships",
                spec.name, best
            );
        }
    }
}
