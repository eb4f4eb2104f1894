//! How long the domain rules take on the sandbox's `large` organisation (100,000 users, 10,000
//! groups, 1,000,000 memberships): `cargo bench -p sandbox --bench rules`. Results go to
//! BENCHMARKS.md (a benchmark, not a timed test). The snapshot is built from the seeded Identity
//! Center directly (no API), so only the rules are measured.

use std::time::Instant;

use domain::changes::{apply, diff};
use domain::drift::drift;
use domain::seats::effective_seats;
use domain::snapshot::Snapshot;
use sandbox::expect::{assignments_of, scope_of, snapshot_of};
use sandbox::seed::{Organisation, SeedSpec};

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::MAX;
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        let out = f();
        best = best.min(started.elapsed().as_secs_f64() * 1000.0);
        last = Some(out);
    }
    match last {
        Some(out) => (best, out),
        None => {
            eprintln!("no runs");
            std::process::exit(1);
        }
    }
}

fn main() {
    let org = match Organisation::generate(&SeedSpec::large()) {
        Ok(org) => org,
        Err(e) => {
            eprintln!("seed: {e}");
            std::process::exit(1);
        }
    };
    let assignments = assignments_of(&org.instance);
    let build = |d: &sandbox::directory::Directory| -> Snapshot {
        match snapshot_of(d, assignments.clone()) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("snapshot: {e}");
                std::process::exit(1);
            }
        }
    };
    let (build_ms, snapshot) = best_of(3, || build(&org.identity_center));
    let scope = scope_of(&org);
    let (seats_ms, holders) = best_of(5, || effective_seats(&snapshot).holders.len());
    let (drift_ms, found) = best_of(5, || drift(&snapshot, &scope).len());
    // A later snapshot with 1 % of users gone and their memberships with them.
    let mut later_dir = org.identity_center.clone();
    let leaving: Vec<String> = later_dir
        .users()
        .step_by(100)
        .map(|u| u.user_id.clone())
        .collect();
    for id in &leaving {
        let _ = later_dir.remove_user(id);
    }
    let later = build(&later_dir);
    let (diff_ms, changes) = best_of(3, || diff(&snapshot, &later));
    let (apply_ms, rebuilt) = best_of(3, || apply(&snapshot, &changes));
    let rebuilt_ok = rebuilt.map(|r| r == later).unwrap_or(false);
    println!(
        "domain rules on large: {} users, {} groups, {} memberships, {} assignments",
        snapshot.users().len(),
        snapshot.groups().len(),
        snapshot.membership_count(),
        snapshot.assignments().len()
    );
    println!("  snapshot build   {build_ms:>8.1} ms");
    println!("  effective seats  {seats_ms:>8.1} ms  ({holders} holders)");
    println!("  drift            {drift_ms:>8.1} ms  ({found} findings)");
    println!(
        "  drift + seats    {:>8.1} ms  (goal < 250 ms)",
        seats_ms + drift_ms
    );
    println!(
        "  diff (1 % leave) {diff_ms:>8.1} ms  ({} users, {} memberships removed)",
        changes.users_removed.len(),
        changes.memberships_removed.len()
    );
    println!("  apply            {apply_ms:>8.1} ms  (rebuilds the later snapshot: {rebuilt_ok})");
    println!(
        "  peak RSS         {:>8.1} MB  (seed + two snapshots + scope)",
        peak_rss_mb()
    );
}
